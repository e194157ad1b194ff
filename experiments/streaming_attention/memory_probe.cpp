// Child-process memory probes (memory_probe.h).
#include "memory_probe.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmlab/core/error.h"

extern char** environ;

namespace lmlab::streaming {
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool can_spawn_probes() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return !ec && exe.filename() == "lmlab";
}

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

Row run_probe(RunContext& ctx, const std::string& name, const std::vector<std::string>& sets) {
  static int counter = 0;
  const fs::path dir = fs::temp_directory_path() /
                       ("lmlab-probe-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> args = {"lmlab", "run", name, "--config", ctx.path("config.toml"),
                                   "--seed", std::to_string(ctx.seed()), "--threads",
                                   std::to_string(at::get_num_threads()), "--out", dir.string()};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string log = (dir / "child.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (spawned == 0) waitpid(pid, &status, 0);
  if (spawned != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string tail = read_all(log);
    fs::remove_all(dir);
    throw Error(detail::concat("memory probe (", sets.empty() ? "" : sets.front(), ") failed: ",
                               spawned != 0 ? "posix_spawn error " + std::to_string(spawned)
                                            : "exit status " + std::to_string(status),
                               "; its output ends with:\n", tail.substr(tail.size() > 2000 ? tail.size() - 2000 : 0)));
  }
  Row row;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().filename() != "summary.json") continue;
    const nlohmann::json summary = nlohmann::json::parse(read_all(entry.path()));
    for (const auto& [key, value] : summary.at("results").items())
      if (value.is_number()) row.emplace_back(key, value.get<double>());
  }
  fs::remove_all(dir);
  LMLAB_CHECK(!row.empty(), Error, "memory probe (", sets.empty() ? "" : sets.front(), ") wrote no results");
  return row;
}

}  // namespace lmlab::streaming
