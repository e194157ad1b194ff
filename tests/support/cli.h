// Test support (not installed): running the lmlab CLI and reading its exit code and output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"
#include "test_paths.h"

namespace lmlab::test_support {

struct CliResult {
  int code;            // the exit status; -1 when the process did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs shell command `cmd`; its exit status and output.
inline CliResult run_shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed: " + cmd};
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `ENV lmlab ARGS`, run in `dir` when given (else the current directory).
inline CliResult run_cli(const std::string& args, const std::string& dir = "", const std::string& env = "") {
  const std::string cd = dir.empty() ? "" : "cd '" + dir + "' && ";
  return run_shell(cd + env + " " + LMLAB_CLI_PATH + " " + args + " 2>&1");
}

// `scripts/lmlab-torchrun TORCHRUN_ARGS ARGS` (torchrun with each rank's log in DIR/logs), run in
// `dir`: lmlab on several ranks of this machine.
inline std::string torchrun_command(const std::string& torchrun_args, const std::string& args, const std::string& dir) {
  return "cd '" + dir + "' && LMLAB=" + LMLAB_CLI_PATH + " LMLAB_TORCHRUN_LOGS=logs " + LMLAB_SOURCE_DIR +
         "/scripts/lmlab-torchrun " + torchrun_args + " " + args + " 2>&1";
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// A fixture with a fresh temporary directory per test (removed afterwards), where lmlab runs.
class CliTest : public TempDirTest {
 protected:
  // Runs `lmlab ARGS` with `env` prefixed (e.g. "LMLAB_DATA_DIR=/x"), in the temp directory.
  CliResult lmlab(const std::string& args, const std::string& env = "") const { return run_cli(args, dir_.string(), env); }

  // The single run directory below `root` (runs/NAME, say).
  std::filesystem::path only_run(const std::filesystem::path& root) const {
    std::vector<std::filesystem::path> runs;
    for (const auto& e : std::filesystem::directory_iterator(root)) runs.push_back(e.path());
    EXPECT_EQ(runs.size(), 1u) << root;
    return runs.empty() ? std::filesystem::path() : runs[0];
  }

  // The reproductions in directories a and b hold the same claims (at least `least`), in the same
  // order, with the same measured values.
  void expect_same_claims(const std::string& a_dir, const std::string& b_dir, size_t least) const {
    const nlohmann::json a = read_json(dir_ / a_dir / "claims.json"), b = read_json(dir_ / b_dir / "claims.json");
    ASSERT_EQ(a.size(), b.size());
    ASSERT_GE(a.size(), least);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]["id"], b[i]["id"]);
      EXPECT_EQ(a[i]["measured"], b[i]["measured"]) << a[i]["id"];
    }
  }
};

}  // namespace lmlab::test_support
