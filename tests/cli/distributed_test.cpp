// lmlab on two ranks that torchrun starts on loopback (docs/distributed.md): experiments and sweep
// points shared out, the same results as one process, and a rank killed mid-sweep, then resumed,
// without a finished point lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using nlohmann::json;
using lmlab::test_support::read_json;

namespace {

using Result = lmlab::test_support::CliResult;

const char kSweep[] = "foundation.teacher_student";

class Distributed : public lmlab::test_support::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_EQ(std::system("command -v torchrun > /dev/null"), 0) << "torchrun (python3-torch) is missing";
  }

  // A port of its own per test process, so that parallel tests do not meet in one store.
  std::string port() const { return std::to_string(20000 + (::getpid() + port_offset_++) % 20000); }

  // lmlab ARGS on two ranks, through scripts/lmlab-torchrun.
  Result torchrun(const std::string& args) const {
    return lmlab::test_support::run_shell(
        lmlab::test_support::torchrun_command("--nproc_per_node 2 --master_port " + port(), args, dir_.string()));
  }

  static std::vector<std::string> lines_of(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // The keys of the points stored by every rank of run `run`.
  static std::set<std::string> stored_keys(const fs::path& run) {
    std::set<std::string> keys;
    std::vector<fs::path> files{run / "points.jsonl"};
    if (fs::exists(run / "ranks"))
      for (const auto& e : fs::directory_iterator(run / "ranks")) files.push_back(e.path() / "points.jsonl");
    for (const fs::path& f : files)
      for (const std::string& line : lines_of(f))
        if (!line.empty() && line.back() == '}') keys.insert(json::parse(line)["key"].get<std::string>());
    return keys;
  }

  static void expect_same_results(const fs::path& a, const fs::path& b) {
    const json sa = read_json(a / "summary.json"), sb = read_json(b / "summary.json");
    EXPECT_EQ(sa["results"], sb["results"]);
    ASSERT_EQ(sa["claims"].size(), sb["claims"].size());
    for (size_t i = 0; i < sa["claims"].size(); ++i)
      EXPECT_EQ(sa["claims"][i]["measured"], sb["claims"][i]["measured"]) << sa["claims"][i]["id"];
  }

  mutable int port_offset_ = 0;
};

// The pid of the lmlab process with RANK=`rank` and MASTER_PORT=`port` in its environment; 0 if none.
pid_t rank_pid(int rank, const std::string& port) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream cmd(e.path() / "cmdline"), env(e.path() / "environ");
    std::string argv0;
    std::getline(cmd, argv0, '\0');
    if (argv0 != LMLAB_CLI_PATH) continue;
    std::set<std::string> vars;
    for (std::string v; std::getline(env, v, '\0');) vars.insert(v);
    if (vars.count("RANK=" + std::to_string(rank)) && vars.count("MASTER_PORT=" + port))
      return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

}  // namespace

// reproduce shares experiments out, and a rank with none left helps with the points of one still
// running (here the long sparse_attention.gaussian): the same claims as one process with the same
// seed and threads.
TEST_F(Distributed, ReproduceOnTwoRanksMatchesOneProcess) {
  const std::string only = std::string("--only '") + kSweep +
                           ",copyright.softmax_regression,foundation.fmnist_mlp,sparse_attention.gaussian'";
  Result one = lmlab("reproduce " + only + " --seed 5 --threads 1 --jobs 1 --out one");
  ASSERT_EQ(one.code, 0) << one.output;
  Result two = torchrun("reproduce " + only + " --seed 5 --threads 1 --out two");
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("== rank 1: "), std::string::npos) << "both ranks took experiments\n" << two.output;
  EXPECT_NE(two.output.find("== rank 0: "), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("rank 0 writes the report in two"), std::string::npos) << two.output;
  expect_same_claims("one", "two", 8);
  for (const char* name : {kSweep, "copyright.softmax_regression", "foundation.fmnist_mlp", "sparse_attention.gaussian"})
    EXPECT_TRUE(fs::exists(only_run(dir_ / "two" / name) / "summary.json")) << name << ": each ran once";
  // gaussian, the longest, goes first to one rank; the other runs the rest (a few seconds), then helps.
  EXPECT_NE(two.output.find("helping with sparse_attention.gaussian"), std::string::npos) << two.output;
  EXPECT_NE(two.output.find("finished its share"), std::string::npos) << two.output;

  Result bad = lmlab("info", "WORLD_SIZE=2");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("needs RANK, MASTER_ADDR and MASTER_PORT"), std::string::npos) << bad.output;
}

// run shares one sweep's points: each computed once, by either rank, gathered in rank 0's run
// directory with the results, metrics and plots of a one-process run.
TEST_F(Distributed, RunSharesSweepPointsAndMatchesOneProcess) {
  const std::string args = std::string("run ") + kSweep + " --seed 5 --threads 1 --set widths=[2,4,8,16,32,64]" +
                           " --set train.steps=300";
  Result one = lmlab(args + " --out one");
  ASSERT_EQ(one.code, 0) << one.output;
  Result two = torchrun(args + " --out two");
  ASSERT_EQ(two.code, 0) << two.output;
  const fs::path a = only_run(dir_ / "one" / kSweep), b = only_run(dir_ / "two" / kSweep);
  expect_same_results(a, b);

  std::vector<std::string> ma = lines_of(a / "metrics.jsonl"), mb = lines_of(b / "metrics.jsonl");
  std::sort(ma.begin(), ma.end());
  std::sort(mb.begin(), mb.end());
  EXPECT_EQ(ma, mb) << "the same metric rows";
  EXPECT_EQ(lines_of(b / "points.jsonl").size(), 6u) << "rank 0's points.jsonl holds every point once";
  EXPECT_EQ(stored_keys(b), stored_keys(a));
  const std::vector<std::string> helped = lines_of(b / "ranks" / "rank1" / "points.jsonl");
  EXPECT_GE(helped.size(), 1u) << "rank 1 computed points\n" << two.output;
  EXPECT_LE(helped.size(), 5u) << "rank 0 computed points too\n" << two.output;
  EXPECT_TRUE(fs::exists(b / "mse_vs_width.svg"));
  EXPECT_FALSE(fs::exists(b / "ranks" / "rank1" / "mse_vs_width.svg")) << "plots are rank 0's";
  EXPECT_FALSE(fs::exists(b / "ranks" / "rank1" / "summary.json")) << "one summary, rank 0's";
  EXPECT_NE(two.output.find("rank 1: shared the points of two/"), std::string::npos) << two.output;
}

// A rank killed mid-sweep: torchrun stops the other, the run is marked FAILED, every point either
// rank finished is kept, and --resume (here on one process) completes it with the results of an
// uninterrupted run.
TEST_F(Distributed, KilledRankLosesNoPointAndResumeCompletesTheSweep) {
  const std::string args = std::string("run ") + kSweep + " --seed 4 --threads 1 --set widths=[2,4,8,16,32,64,128]" +
                           " --set train.steps=1500";
  Result one = lmlab(args + " --out one");
  ASSERT_EQ(one.code, 0) << one.output;

  const std::string p = port();
  const std::string cmd =
      lmlab::test_support::torchrun_command("--nproc_per_node 2 --monitor_interval 1 --master_port " + p,
                                            args + " --out cut", dir_.string());
  const pid_t launcher = fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    execl("/bin/sh", "sh", "-c", ("(" + cmd + ") > '" + (dir_ / "torchrun.txt").string() + "'").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill rank 1 once two points are stored (by either rank).
  fs::path run;
  pid_t victim = 0;
  for (int i = 0; i < 600 && victim == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (run.empty() && fs::exists(dir_ / "cut" / kSweep) && !fs::is_empty(dir_ / "cut" / kSweep))
      run = only_run(dir_ / "cut" / kSweep);
    if (!run.empty() && stored_keys(run).size() >= 2) victim = rank_pid(1, p);
  }
  ASSERT_GT(victim, 0) << "rank 1 was not found running";
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(launcher, &status, 0), launcher);
  const std::string launched = [&] {
    std::ifstream in(dir_ / "torchrun.txt");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << launched;
  EXPECT_TRUE(fs::exists(run / "FAILED")) << "torchrun's SIGTERM to rank 0 marks the run\n" << launched;
  EXPECT_FALSE(fs::exists(run / "summary.json"));
  const std::set<std::string> kept = stored_keys(run);
  ASSERT_GE(kept.size(), 2u);
  ASSERT_LT(kept.size(), 7u) << "the killed rank's point was not finished";

  Result resumed = lmlab(std::string("run ") + kSweep + " --resume " + run.string());
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  size_t reused = 0;
  for (std::string::size_type at = 0; (at = resumed.output.find("already finished", at)) != std::string::npos; ++at)
    ++reused;
  EXPECT_EQ(reused, kept.size()) << "every point finished before the kill is reused\n" << resumed.output;
  EXPECT_FALSE(fs::exists(run / "FAILED"));
  EXPECT_EQ(lines_of(run / "points.jsonl").size(), 7u) << "the resumed run's points.jsonl holds every point";
  expect_same_results(only_run(dir_ / "one" / kSweep), run);
}

// --data-parallel trains each model on both ranks, each on its share of every batch: the ViT
// fine-tuning (pretraining on 1001 images: the last batch of 105 splits 53 / 52) ends with the test
// accuracies of one process.
TEST_F(Distributed, DataParallelVitFineTuningMatchesOneProcess) {
  const std::string args =
      "run ntk_attention.finetune_vit --quick --seed 2 --threads 1 --set 'methods=[\"full\",\"lora:4\",\"ntk\"]'"
      " --set pretrain_examples=1001 --set adapt_examples=501 --set test_examples=500 --set pretrain.epochs=1"
      " --set adapt.epochs=1";
  Result one = lmlab(args + " --out one");
  ASSERT_EQ(one.code, 0) << one.output;
  Result two = torchrun(args + " --data-parallel --out two");
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("(rank 1: data-parallel)"), std::string::npos) << two.output;
  const json a = read_json(only_run(dir_ / "one" / "ntk_attention.finetune_vit") / "summary.json");
  const json b = read_json(only_run(dir_ / "two" / "ntk_attention.finetune_vit") / "summary.json");
  for (const char* key : {"full.test_accuracy", "lora:4.test_accuracy", "ntk.test_accuracy"})
    EXPECT_EQ(a["results"][key], b["results"][key]) << key;
}
