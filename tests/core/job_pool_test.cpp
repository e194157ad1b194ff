// run_jobs (lmlab/core/job_pool.h) over small shell commands: logs, exit codes, signals, the bound on
// jobs at once, and the errors of a job that cannot start.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/core/job_pool.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmlab::Job;
using lmlab::JobResult;

namespace {

class JobPool : public lmlab::test_support::TempDirTest {
 protected:
  Job shell(const std::string& script, const std::string& log) const {
    return {{"/bin/sh", "-c", script}, (dir_ / log).string()};
  }
  std::string read(const std::string& log) const {
    std::ifstream in(dir_ / log);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(JobPool, LogsExitCodesAndSignalsOfEveryJob) {
  const std::vector<Job> jobs = {shell("echo out; echo err >&2", "a.txt"), shell("exit 3", "b.txt"),
                                 shell("kill -9 $$", "c.txt")};
  std::vector<int> codes(jobs.size(), -1);
  std::vector<size_t> started;
  lmlab::run_jobs(jobs, 2, [&](size_t i) { started.push_back(i); },
                  [&](size_t i, const JobResult& r) { codes[i] = r.exit_code; });
  EXPECT_EQ(started, (std::vector<size_t>{0, 1, 2})) << "jobs start in the order given";
  EXPECT_EQ(codes, (std::vector<int>{0, 3, 128 + 9}));
  EXPECT_EQ(read("a.txt"), "out\nerr\n");
  JobResult r;
  r.exit_code = 3;
  EXPECT_EQ(r.how(), "exit 3");
  r.exit_code = 128 + 9;
  EXPECT_EQ(r.how(), "killed by signal 9 (Killed)");
}

// Each job appends its start and end to one file; with a bound of 2, no third job starts before
// one ends, and both slots are used (the second job starts before the first ends).
TEST_F(JobPool, NeverRunsMoreThanTheBoundAtOnce) {
  const std::string events = (dir_ / "events").string();
  std::vector<Job> jobs;
  for (int i = 0; i < 5; ++i)
    jobs.push_back(shell("echo + >> " + events + "; sleep 0.2; echo - >> " + events, "j" + std::to_string(i)));
  int finished = 0;
  lmlab::run_jobs(jobs, 2, [](size_t) {}, [&](size_t, const JobResult& r) { finished += r.exit_code == 0; });
  EXPECT_EQ(finished, 5);
  int running = 0, most = 0;
  for (char c : read("events")) {
    if (c == '+') most = std::max(most, ++running);
    if (c == '-') --running;
  }
  EXPECT_EQ(most, 2);
  EXPECT_EQ(running, 0);
}

TEST_F(JobPool, AJobThatCannotStartIsADataErrorAfterTheOthersStop) {
  const std::string marker = (dir_ / "finished").string();
  const std::vector<Job> jobs = {shell("sleep 5; touch " + marker, "long.txt"),
                                 {{(dir_ / "no_such_program").string()}, (dir_ / "missing.txt").string()}};
  try {
    lmlab::run_jobs(jobs, 2, [](size_t) {}, [](size_t, const JobResult&) {});
    FAIL() << "a missing program must be refused";
  } catch (const lmlab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_program"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(marker)) << "the running job was stopped, not left behind";

  // The log's directory is made when missing; one that cannot be made (a file is in the way) is refused.
  const std::vector<Job> new_dir = {{{"/bin/true"}, (dir_ / "new_dir" / "log.txt").string()}};
  int code = -1;
  lmlab::run_jobs(new_dir, 1, [](size_t) {}, [&](size_t, const JobResult& r) { code = r.exit_code; });
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "new_dir" / "log.txt"));
  std::ofstream(dir_ / "a_file") << "x";
  const std::vector<Job> blocked = {{{"/bin/true"}, (dir_ / "a_file" / "log.txt").string()}};
  EXPECT_THROW(lmlab::run_jobs(blocked, 1, [](size_t) {}, [](size_t, const JobResult&) {}), lmlab::DataError);
  EXPECT_THROW(lmlab::run_jobs({}, 0, [](size_t) {}, [](size_t, const JobResult&) {}), lmlab::UsageError);
}

// A callback's exception stops the running jobs (SIGTERM) before it leaves.
TEST_F(JobPool, ACallbackThatThrowsStopsTheRunningJobs) {
  const std::string marker = (dir_ / "finished").string();
  const std::vector<Job> jobs = {shell("exit 0", "quick.txt"), shell("sleep 5; touch " + marker, "long.txt")};
  EXPECT_THROW(lmlab::run_jobs(jobs, 2, [](size_t) {},
                               [](size_t i, const JobResult&) {
                                 if (i == 0) throw std::runtime_error("stop");
                               }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(marker));
}

}  // namespace
