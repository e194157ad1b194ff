// Fault injection on a real sweep (foundation.teacher_student on tiny points): killed with SIGKILL
// at random moments and resumed, it gives the results, claims and metrics of an uninterrupted run,
// and every file it leaves is whole; a full disk (LMLAB_FAIL_WRITES_AFTER, src/core/files.h) fails
// it with the data error and leaves the files written before intact.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "lmlab/core/error.h"
#include "lmlab/core/runner.h"
#include "registry.h"

using namespace lmlab;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char kSweep[] = "foundation.teacher_student";
constexpr int kWidths = 6;

std::string text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int lines_of(const fs::path& p) {
  const std::string t = text(p);
  return static_cast<int>(std::count(t.begin(), t.end(), '\n'));
}

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lmlab_fault_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static RunOptions tiny(const fs::path& out) {
    RunOptions o;
    o.seed = 11;
    o.threads = 1;
    o.quick = true;
    o.out_root = out.string();
    o.sets = {"widths=[2,4,8,16,32,64]", "train.steps=90", "n_train=64", "n_test=64", "train.log_every=3"};
    return o;
  }

  // Runs `options` in a child process whose output goes to output(); the child exits with lmlab's
  // exit code. `fail_writes_after` >= 0 sets LMLAB_FAIL_WRITES_AFTER in the child.
  pid_t start(const RunOptions& options, long fail_writes_after = -1) const {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    const int out = open((root_ / "child.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (fail_writes_after >= 0) setenv("LMLAB_FAIL_WRITES_AFTER", std::to_string(fail_writes_after).c_str(), 1);
    try {
      run_experiment(find_experiment(kSweep), options);
      _exit(0);
    } catch (const Error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      _exit(static_cast<int>(e.exit_code()));
    } catch (...) {
      _exit(1);
    }
  }

  // What the last child wrote.
  std::string output() const { return text(root_ / "child.log"); }

  static int finish(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // The one run directory below `out`, or "" when there is none yet.
  static fs::path run_dir(const fs::path& out) {
    const fs::path parent = out / kSweep;
    if (!fs::exists(parent)) return {};
    for (const auto& e : fs::directory_iterator(parent)) return e.path();
    return {};
  }

  // Every file of a run directory is whole: JSON files parse, every line of a JSONL file parses (a
  // torn last line is allowed only where `torn_ok`). A temporary file of an interrupted atomic
  // write is no run file (the resume removes it); after a finished run none may be left.
  static void expect_whole(const fs::path& dir, bool torn_ok, bool finished) {
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp") != std::string::npos) {  // NAME.tmp.PID of a write, NAME.tmp-PID-N of a plot
        EXPECT_FALSE(finished) << "temporary file left: " << e.path();
        continue;
      }
      if (e.path().extension() == ".json") EXPECT_NO_THROW(json::parse(text(e.path()))) << e.path();
      if (e.path().extension() != ".jsonl") continue;
      std::istringstream in(text(e.path()));
      const bool ends_whole = text(e.path()).empty() || text(e.path()).back() == '\n';
      EXPECT_TRUE(torn_ok || ends_whole) << e.path();
      for (std::string line; std::getline(in, line);)
        if (in.peek() != EOF || ends_whole) EXPECT_NO_THROW(json::parse(line)) << e.path() << ": " << line;
    }
  }

  fs::path root_;
};

TEST_F(FaultInjection, KilledAtRandomMomentsAndResumedMatchesAnUninterruptedRun) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(finish(start(tiny(root_ / "reference"))), 0);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const fs::path reference = run_dir(root_ / "reference");
  const json expected = json::parse(text(reference / "summary.json"));
  const std::string expected_metrics = text(reference / "metrics.jsonl");
  ASSERT_EQ(lines_of(reference / "points.jsonl"), kWidths);

  std::mt19937 rng(20261207);
  std::uniform_real_distribution<double> moment(0.0, seconds);
  constexpr int kTrials = 50;
  int resumed = 0, mid_sweep = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const fs::path out = root_ / ("t" + std::to_string(trial));
    const pid_t pid = start(tiny(out));
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(rng)));
    kill(pid, SIGKILL);
    finish(pid);
    const fs::path dir = run_dir(out);
    if (dir.empty() || !fs::exists(dir / "run.json")) continue;  // killed before the run existed
    expect_whole(dir, /*torn_ok=*/false, /*finished=*/false);
    const int stored = fs::exists(dir / "points.jsonl") ? lines_of(dir / "points.jsonl") : 0;
    mid_sweep += stored > 0 && stored < kWidths;

    RunOptions resume;
    resume.resume_dir = dir.string();
    ASSERT_EQ(finish(start(resume)), 0) << output();
    ++resumed;
    const json got = json::parse(text(dir / "summary.json"));
    EXPECT_EQ(got["results"], expected["results"]);
    EXPECT_EQ(got["claims"], expected["claims"]);
    EXPECT_EQ(text(dir / "metrics.jsonl"), expected_metrics);
    EXPECT_EQ(lines_of(dir / "points.jsonl"), kWidths);
    expect_whole(dir, /*torn_ok=*/false, /*finished=*/true);
    fs::remove_all(out);
  }
  // The moments spread over the run: most trials find a run to resume, many of them mid-sweep.
  EXPECT_GE(resumed, kTrials / 2);
  EXPECT_GE(mid_sweep, kTrials / 5);
  std::printf("%d trials: %d resumed, %d of them with some but not all points stored (run %.2fs)\n", kTrials,
              resumed, mid_sweep, seconds);
}

TEST_F(FaultInjection, FullDiskFailsWithTheDataErrorAndKeepsWhatWasWritten) {
  ASSERT_EQ(finish(start(tiny(root_ / "done"))), 0);
  const fs::path done = run_dir(root_ / "done");
  int failed = 0;
  // Every third write of a fresh run fails first, until the run needs no more writes than allowed.
  for (long after = 0;; after += 3) {
    SCOPED_TRACE("writes allowed: " + std::to_string(after));
    const fs::path out = root_ / ("w" + std::to_string(after));
    const int code = finish(start(tiny(out), after));
    if (code == 0) break;
    ++failed;
    EXPECT_EQ(code, static_cast<int>(ExitCode::Data)) << output();
    const fs::path dir = run_dir(out);
    if (dir.empty()) continue;
    expect_whole(dir, /*torn_ok=*/true, /*finished=*/false);  // a full disk may cut the last append
    if (fs::exists(dir / "run.json")) {  // then a resume with room on the disk finishes the run
      RunOptions resume;
      resume.resume_dir = dir.string();
      ASSERT_EQ(finish(start(resume)), 0) << output();
      EXPECT_EQ(json::parse(text(dir / "summary.json"))["results"],
                json::parse(text(done / "summary.json"))["results"]);
      EXPECT_EQ(text(dir / "metrics.jsonl"), text(done / "metrics.jsonl"));
    }
    fs::remove_all(out);
  }
  EXPECT_GT(failed, 10);

  // A full disk while a finished run is resumed leaves its summary.json as it was.
  const std::string before = text(done / "summary.json");
  RunOptions resume;
  resume.resume_dir = done.string();
  EXPECT_EQ(finish(start(resume, 0)), static_cast<int>(ExitCode::Data));
  EXPECT_EQ(text(done / "summary.json"), before);
  EXPECT_EQ(lines_of(done / "points.jsonl"), kWidths);
}

}  // namespace
