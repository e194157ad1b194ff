// The CLI as a user meets it: exit codes, error messages, run directories, resume, determinism.
// Each test runs the real `lmlab` binary in a fresh temporary directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using nlohmann::json;
using lmlab::test_support::read_json;

namespace {

using Result = lmlab::test_support::CliResult;

using Cli = lmlab::test_support::CliTest;

const char kSweep[] = "foundation.teacher_student";

}  // namespace

// The CLI runs with the passive OpenMP wait policy unless the caller chose one
// (lmlab::use_passive_omp_wait re-executes it once with the variable set).
TEST_F(Cli, OpenMpWaitPolicyIsPassiveUnlessChosen) {
  const Result unset = lmlab("info", "env -u OMP_WAIT_POLICY");
  EXPECT_EQ(unset.code, 0) << unset.output;
  EXPECT_NE(unset.output.find("omp_wait       passive, GOMP_SPINCOUNT 10000\n"), std::string::npos) << unset.output;
  const Result chosen = lmlab("info", "env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=active");
  EXPECT_NE(chosen.output.find("omp_wait       active, GOMP_SPINCOUNT unset\n"), std::string::npos) << chosen.output;
}

TEST_F(Cli, HelpAndListAndInfo) {
  EXPECT_EQ(lmlab("--help").code, 0);
  EXPECT_EQ(lmlab("run --help").code, 0);
  EXPECT_EQ(lmlab("reproduce --help").code, 0);
  Result list = lmlab("list");
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.output.find("foundation.fmnist_mlp"), std::string::npos);
  EXPECT_NE(list.output.find("foundation.text_gpt"), std::string::npos);
  Result info = lmlab("info", "LMLAB_SIMD=scalar");
  EXPECT_EQ(info.code, 0);
  EXPECT_NE(info.output.find("libtorch"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("simd_in_use    scalar"), std::string::npos) << info.output;
}

TEST_F(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(lmlab("").code, 2);
  EXPECT_EQ(lmlab("frobnicate").code, 2);
  Result unknown = lmlab("run no.such");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.output.find("unknown experiment 'no.such'"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("foundation.fmnist_mlp"), std::string::npos) << unknown.output;

  Result key = lmlab(std::string("run ") + kSweep + " --quick --set no_such_key=1");
  EXPECT_EQ(key.code, 2);
  EXPECT_NE(key.output.find("unknown config key 'no_such_key'"), std::string::npos) << key.output;
  EXPECT_NE(key.output.find("train.steps (int)"), std::string::npos) << key.output;

  Result type = lmlab(std::string("run ") + kSweep + " --quick --set train.steps=fast");
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.output.find("takes a value of type int"), std::string::npos) << type.output;
  EXPECT_EQ(lmlab(std::string("run ") + kSweep + " --threads 0").code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "runs")) << "a rejected config must not create a run";

  // Counts and divisors out of range are usage errors, not a SIGFPE or a run on nothing.
  for (const char* bad : {"train.log_every=0", "train.steps=0", "n_train=0"}) {
    Result r = lmlab(std::string("run ") + kSweep + " --quick --set " + bad);
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find(std::string(bad).substr(0, std::string(bad).find('='))), std::string::npos) << r.output;
  }
  // Training that diverges stops at once, naming the step and the tensor, with the run marked failed.
  Result nan = lmlab(std::string("run ") + kSweep + " --quick --threads 1 --set train.lr=1e30 --out nan");
  EXPECT_EQ(nan.code, 3) << nan.output;
  EXPECT_NE(nan.output.find("training diverged at step "), std::string::npos) << nan.output;
  EXPECT_NE(nan.output.find("; lower train.lr"), std::string::npos) << nan.output;
  EXPECT_TRUE(fs::exists(only_run(dir_ / "nan" / kSweep) / "FAILED"));
  // A validation split that leaves nothing to train on.
  Result all_validation = lmlab("run foundation.fmnist_mlp --quick --set validation=60000");
  EXPECT_EQ(all_validation.code, 2) << all_validation.output;
  EXPECT_NE(all_validation.output.find("validation must be from 1 to 59999"), std::string::npos)
      << all_validation.output;
}

TEST_F(Cli, ConfigFileOverridesAndIsChecked) {
  std::ofstream(dir_ / "bad.toml") << "[train]\nstepz = 3\n";
  Result bad = lmlab(std::string("run ") + kSweep + " --config bad.toml");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("bad.toml: unknown config key 'train.stepz'"), std::string::npos) << bad.output;
  EXPECT_EQ(lmlab(std::string("run ") + kSweep + " --config missing.toml").code, 2);
}

TEST_F(Cli, NonWritableOutputIsADataError) {
  std::ofstream(dir_ / "afile") << "x";
  Result r = lmlab(std::string("run ") + kSweep + " --quick --out afile/runs");
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot create directory"), std::string::npos) << r.output;
  Result too_long = lmlab(std::string("run ") + kSweep + " --quick --out " + std::string(5000, 'a'));
  EXPECT_EQ(too_long.code, 3) << too_long.output;
  EXPECT_NE(too_long.output.find("File name too long"), std::string::npos) << too_long.output;
}

// Options that used to be taken in a surprising sense are refused with what to pass instead.
TEST_F(Cli, OutSeedThreadsAndConfigOutOfRangeAreRefused) {
  Result empty_out = lmlab(std::string("run ") + kSweep + " --quick --out ''");
  EXPECT_EQ(empty_out.code, 2) << empty_out.output;
  EXPECT_NE(empty_out.output.find("--out is empty"), std::string::npos) << empty_out.output;
  EXPECT_EQ(lmlab("reproduce --only 'foundation.*' --out ''").code, 2);
  for (const char* seed : {"-1", "18446744073709551616", "1e3", "0x10", ""}) {
    Result r = lmlab(std::string("run ") + kSweep + " --quick --seed '" + seed + "'");
    EXPECT_EQ(r.code, 2) << seed << "\n" << r.output;
    EXPECT_NE(r.output.find("is not a seed"), std::string::npos) << r.output;
  }
  Result threads = lmlab(std::string("run ") + kSweep + " --quick --threads 100000");
  EXPECT_EQ(threads.code, 2) << threads.output;
  EXPECT_NE(threads.output.find("per core of this machine"), std::string::npos) << threads.output;
  Result zero = lmlab(std::string("run ") + kSweep + " --quick --config /dev/zero");
  EXPECT_EQ(zero.code, 3) << zero.output;
  EXPECT_NE(zero.output.find("not a regular file"), std::string::npos) << zero.output;
  EXPECT_FALSE(fs::exists(dir_ / "runs")) << "a refused run must not create a directory";

  // A model that cannot fit is refused before allocation, with the estimate and the limit.
  Result huge = lmlab("run foundation.text_gpt --quick --set model.width=1000000000");
  EXPECT_EQ(huge.code, 2) << huge.output;
  EXPECT_NE(huge.output.find("would need about"), std::string::npos) << huge.output;
  EXPECT_EQ(huge.output.find("frame #"), std::string::npos) << "no LibTorch backtrace";
  Result small = lmlab("run foundation.text_gpt --quick --max-memory 1M");
  EXPECT_EQ(small.code, 2) << small.output;
  EXPECT_NE(small.output.find("more than the 1 MiB a run may use (--max-memory"), std::string::npos) << small.output;
  // Activations, not parameters: full-batch steps on 200000 examples through a width-4096 student.
  Result batch = lmlab(std::string("run ") + kSweep + " --quick --max-memory 2G --set n_train=200000 --set widths=[4096]");
  EXPECT_EQ(batch.code, 2) << batch.output;
  EXPECT_NE(batch.output.find("a training step of a student of width 4096 on batches of 200000 would need about"),
            std::string::npos) << batch.output;
}

TEST_F(Cli, MissingDataPackageIsADataErrorAndMarksTheRunFailed) {
  Result r = lmlab("run foundation.fmnist_mlp --quick", "LMLAB_DATA_DIR=" + (dir_ / "nowhere").string());
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("dataset-fashion-mnist"), std::string::npos) << r.output;
  const fs::path run = only_run(dir_ / "runs" / "foundation.fmnist_mlp");
  ASSERT_TRUE(fs::exists(run / "FAILED"));
  const json s = read_json(run / "summary.json");
  EXPECT_EQ(s["status"], "failed");
  EXPECT_NE(s["error"].get<std::string>().find("dataset-fashion-mnist"), std::string::npos);
  EXPECT_TRUE(fs::exists(run / "config.toml"));
}

TEST_F(Cli, ResumeRejectsNonRunsAndNonSweeps) {
  fs::create_directories(dir_ / "empty");
  Result r = lmlab(std::string("run ") + kSweep + " --resume empty");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("not an lmlab run directory"), std::string::npos) << r.output;

  // A failed foundation.fmnist_mlp run directory: foundation.fmnist_mlp is not a sweep.
  lmlab("run foundation.fmnist_mlp --quick", "LMLAB_DATA_DIR=" + (dir_ / "nowhere").string());
  const fs::path run = only_run(dir_ / "runs" / "foundation.fmnist_mlp");
  const std::string before = read_json(run / "summary.json").dump();
  r = lmlab("run foundation.fmnist_mlp --resume " + run.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("is not a sweep"), std::string::npos) << r.output;
  r = lmlab(std::string("run ") + kSweep + " --resume " + run.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("is a run of 'foundation.fmnist_mlp'"), std::string::npos) << r.output;
  EXPECT_EQ(read_json(run / "summary.json").dump(), before) << "a refused resume must not touch the run";
}

TEST_F(Cli, RunWritesTheDocumentedFilesAndIsDeterministic) {
  Result a = lmlab(std::string("run ") + kSweep + " --quick --seed 7 --threads 1 --out a");
  ASSERT_EQ(a.code, 0) << a.output;
  Result b = lmlab(std::string("run ") + kSweep + " --quick --seed 7 --threads 1 --out b");
  ASSERT_EQ(b.code, 0) << b.output;
  const fs::path ra = only_run(dir_ / "a" / kSweep), rb = only_run(dir_ / "b" / kSweep);
  EXPECT_NE(ra.filename().string().find("-s7"), std::string::npos);
  for (const char* f : {"config.toml", "metrics.jsonl", "summary.json", "log.txt", "run.json", "report.html"})
    EXPECT_TRUE(fs::exists(ra / f)) << f;
  const json sa = read_json(ra / "summary.json"), sb = read_json(rb / "summary.json");
  for (const char* k : {"experiment", "paper", "version", "git_sha", "seed", "quick", "started", "finished",
                        "wall_s", "config", "results", "claims", "environment"})
    EXPECT_TRUE(sa.contains(k)) << k;
  EXPECT_EQ(sa["status"], "ok");
  ASSERT_FALSE(sa["claims"].empty());
  for (const char* k : {"id", "statement", "measured", "comparator", "threshold", "passed"})
    EXPECT_TRUE(sa["claims"][0].contains(k)) << k;
  EXPECT_EQ(sa["results"], sb["results"]) << "same seed and threads must give identical results";
  EXPECT_EQ(sa["claims"], sb["claims"]);

  Result c = lmlab(std::string("run ") + kSweep + " --quick --seed 8 --threads 1 --out c");
  ASSERT_EQ(c.code, 0) << c.output;
  EXPECT_NE(read_json(only_run(dir_ / "c" / kSweep) / "summary.json")["results"], sa["results"])
      << "another seed should give other numbers";
}

// `reproduce --jobs 2` runs each experiment in its own process: the same claims, values and run
// layout as one process with the same thread count; a child that fails is reported with the end of
// its log while the others finish.
TEST_F(Cli, ReproduceInParallelMatchesOneProcess) {
  const std::string args = std::string("reproduce --only '") + kSweep + ",copyright.softmax_regression' --seed 5 --threads 1";
  Result seq = lmlab(args + " --jobs 1 --out seq");
  ASSERT_EQ(seq.code, 0) << seq.output;
  Result par = lmlab(args + " --jobs 2 --out par");
  ASSERT_EQ(par.code, 0) << par.output;
  EXPECT_NE(par.output.find("2 experiments, 2 at a time, 1 thread each"), std::string::npos) << par.output;
  EXPECT_NE(par.output.find("   copyright.softmax_regression: "), std::string::npos) << par.output;
  EXPECT_TRUE(fs::exists(dir_ / "par" / "logs" / (std::string(kSweep) + ".txt")));
  EXPECT_TRUE(fs::exists(dir_ / "par" / "report.html"));
  expect_same_claims("seq", "par", 3);
  const std::string tally = seq.output.substr(seq.output.rfind("claims passed"));
  EXPECT_EQ(par.output.substr(par.output.rfind("claims passed")).substr(0, 40), tally.substr(0, 40));

  Result threads = lmlab(std::string("reproduce --only '") + kSweep + "' --jobs 2 --threads 100000 --out many");
  EXPECT_EQ(threads.code, 2) << threads.output;
  EXPECT_FALSE(fs::exists(dir_ / "many")) << "refused before any child starts";

  Result failing = lmlab(std::string("reproduce --only '") + kSweep + ",foundation.fmnist_mlp' --jobs 2 --out fail",
                         "LMLAB_DATA_DIR=" + (dir_ / "nowhere").string());
  EXPECT_EQ(failing.code, 1) << failing.output;
  EXPECT_NE(failing.output.find("experiment foundation.fmnist_mlp failed\n   (its process: exit 3 after"),
            std::string::npos) << failing.output;
  EXPECT_NE(failing.output.find("   | lmlab: error: "), std::string::npos) << "the end of its log" << failing.output;
  EXPECT_NE(failing.output.find("1 of 2 experiments failed to run"), std::string::npos) << failing.output;
  EXPECT_TRUE(fs::exists(only_run(dir_ / "fail" / kSweep) / "summary.json")) << "the other experiment finished";
  EXPECT_TRUE(fs::exists(only_run(dir_ / "fail" / "foundation.fmnist_mlp") / "FAILED"));
}

// icl.reweighting reuses the learner icl.linear_regression trains: `reproduce --jobs 2` runs them
// one after the other in one process, so the learner is trained once (a memory limit ends both
// before any work).
TEST_F(Cli, ReproduceRunsAnExperimentInTheProcessWhoseWorkItReuses) {
  Result r = lmlab("reproduce --only 'icl.*' --jobs 2 --threads 1 --max-memory 1K --out g");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("== [1/2] icl.linear_regression started\n== [2/2] icl.reweighting started"), std::string::npos)
      << r.output;
  std::vector<std::string> logs;
  for (const auto& e : fs::directory_iterator(dir_ / "g" / "logs")) logs.push_back(e.path().filename().string());
  EXPECT_EQ(logs, std::vector<std::string>{"icl.linear_regression.txt"});
  std::ifstream in(dir_ / "g" / "logs" / "icl.linear_regression.txt");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_LT(log.find("lmlab run icl.linear_regression"), log.find("lmlab run icl.reweighting")) << log;
}

// `reproduce` on two ranks started by torchrun (real processes, loopback): the experiments are
// shared out through the store and land in rank 0's directory with the same claims and values as
// one process with the same seed and thread count; `run` refuses a world of several ranks.
// `lmlab run A B` runs both, one after another; a failure does not stop the next; options that
// belong to one experiment are refused.
TEST_F(Cli, RunOfSeveralExperiments) {
  Result both = lmlab(std::string("run foundation.fmnist_mlp ") + kSweep + " --quick --threads 1 --out two",
                      "LMLAB_DATA_DIR=" + (dir_ / "nowhere").string());
  EXPECT_EQ(both.code, 3) << both.output;
  EXPECT_NE(both.output.find("lmlab: error: foundation.fmnist_mlp: "), std::string::npos) << both.output;
  EXPECT_TRUE(fs::exists(only_run(dir_ / "two" / kSweep) / "summary.json")) << both.output;
  Result set = lmlab(std::string("run foundation.fmnist_mlp ") + kSweep + " --set seeds=[1]");
  EXPECT_EQ(set.code, 2) << set.output;
  EXPECT_NE(set.output.find("apply to one experiment"), std::string::npos) << set.output;
  EXPECT_EQ(lmlab(std::string("run ") + kSweep + " no.such --quick").code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "runs")) << "an unknown name is refused before anything runs";
}

TEST_F(Cli, ResumeAfterKillKeepsFinishedPointsAndMatchesAnUninterruptedRun) {
  ASSERT_EQ(lmlab(std::string("run ") + kSweep + " --quick --seed 3 --threads 1 --out full").code, 0);
  const json full = read_json(only_run(dir_ / "full" / kSweep) / "summary.json");

  // Start the same run, kill it as soon as its first point is stored.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir_.c_str()) != 0) _exit(127);
    freopen("/dev/null", "w", stdout);
    execl(LMLAB_CLI_PATH, "lmlab", "run", kSweep, "--quick", "--seed", "3", "--threads", "1", "--out", "cut",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  fs::path run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(dir_ / "cut" / kSweep)) {
      for (const auto& e : fs::directory_iterator(dir_ / "cut" / kSweep)) run = e.path();
      if (!run.empty() && fs::exists(run / "points.jsonl") && fs::file_size(run / "points.jsonl") > 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_FALSE(run.empty());
  ASSERT_FALSE(fs::exists(run / "summary.json")) << "the run finished before it could be interrupted";
  std::ifstream points(run / "points.jsonl");
  const std::string first_point((std::istreambuf_iterator<char>(points)), std::istreambuf_iterator<char>());

  // A point torn by the kill is dropped from points.jsonl, not appended to.
  std::ofstream(run / "points.jsonl", std::ios::app) << "{\"key\": \"width=";
  // --resume keeps the run's own seed, mode and directory, and one process at a time works on it.
  for (const char* extra : {" --seed 4", " --quick", " --out elsewhere"}) {
    Result refused = lmlab("run " + std::string(kSweep) + " --resume " + run.string() + extra);
    EXPECT_EQ(refused.code, 2) << extra << "\n" << refused.output;
    EXPECT_NE(refused.output.find("drop --seed, --quick and --out"), std::string::npos) << refused.output;
  }
  {
    const int fd = open(run.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
    Result busy = lmlab("run " + std::string(kSweep) + " --resume " + run.string());
    close(fd);
    EXPECT_EQ(busy.code, 2) << busy.output;
    EXPECT_NE(busy.output.find("another lmlab process is running in"), std::string::npos) << busy.output;
  }

  // Without --threads the resumed run takes the thread count recorded in run.json (results depend on it).
  EXPECT_EQ(read_json(run / "run.json")["threads"], 1);
  Result r = lmlab("run " + std::string(kSweep) + " --resume " + run.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("is unreadable"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("already finished"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" threads 1 -> "), std::string::npos) << r.output;
  const json resumed = read_json(run / "summary.json");
  EXPECT_EQ(resumed["results"], full["results"]);
  EXPECT_EQ(resumed["claims"], full["claims"]);
  std::ifstream after(run / "points.jsonl");
  const std::string all_points((std::istreambuf_iterator<char>(after)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all_points.rfind(first_point, 0), 0u) << "finished points must be kept, not rewritten";
  std::istringstream lines(all_points);
  for (std::string line; std::getline(lines, line);) EXPECT_NO_THROW(json::parse(line)) << line;
  // metrics.jsonl holds each row once, in the order of an uninterrupted run.
  auto text = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(text(run / "metrics.jsonl"), text(only_run(dir_ / "full" / kSweep) / "metrics.jsonl"));

  // A stored point whose fields do not read as the experiment expects is a damaged file (3), not a bug (1).
  {
    std::string damaged = all_points;
    const size_t at = damaged.find("\"test_mse\":");
    ASSERT_NE(at, std::string::npos) << damaged;
    damaged.insert(at + 11, "\"text\",\"was\":");
    std::ofstream(run / "points.jsonl") << damaged;
    Result bad = lmlab("run " + std::string(kSweep) + " --resume " + run.string());
    EXPECT_EQ(bad.code, 3) << bad.output;
    EXPECT_NE(bad.output.find("points.jsonl: the file is damaged"), std::string::npos) << bad.output;
    std::ofstream(run / "points.jsonl") << all_points;
  }

  // Another thread count on resume is allowed, and said.
  Result other = lmlab("run " + std::string(kSweep) + " --resume " + run.string() + " --threads 2");
  ASSERT_EQ(other.code, 0) << other.output;
  EXPECT_NE(other.output.find("started with 1 threads and resumes with 2"), std::string::npos) << other.output;
}

TEST_F(Cli, ReportOfARunAndOfNothing) {
  ASSERT_EQ(lmlab(std::string("run ") + kSweep + " --quick --out r").code, 0);
  const fs::path run = only_run(dir_ / "r" / kSweep);
  fs::remove(run / "report.html");
  Result r = lmlab("report " + run.string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(run / "report.html"));
  fs::create_directories(dir_ / "nothing");
  EXPECT_EQ(lmlab("report nothing").code, 2);
}
