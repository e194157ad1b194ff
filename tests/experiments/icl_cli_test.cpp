// The icl.* experiments as a user meets them through the CLI: exit codes for bad config values and
// bad checkpoints (2: usage, 3: data), and the learner cache found again by a later run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lmlab/icl/checkpoint.h"
#include "support/cli.h"

namespace fs = std::filesystem;

namespace {

using Result = lmlab::test_support::CliResult;
using IclCli = lmlab::test_support::CliTest;

#define EXPECT_EXIT_WITH(result, exit_code, phrase)                                   \
  do {                                                                                \
    const Result r_ = (result);                                                       \
    EXPECT_EQ(r_.code, exit_code) << r_.output;                                       \
    EXPECT_NE(r_.output.find(phrase), std::string::npos) << r_.output;                \
  } while (0)

TEST_F(IclCli, BadConfigValuesExitTwoBeforeAnyWork) {
  const std::string lr = "run icl.linear_regression --quick ";
  EXPECT_EXIT_WITH(lmlab(lr + "--set eval_prompts=0"), 2, "eval_prompts");
  EXPECT_EXIT_WITH(lmlab(lr + "--set training.lr=-1"), 2, "lr");
  EXPECT_EXIT_WITH(lmlab(lr + "--set points=6"), 2, "d + 1");
  EXPECT_EXIT_WITH(lmlab(lr + "--set learner.width=33"), 2, "multiple");
  EXPECT_EXIT_WITH(lmlab(lr + "--set training.curriculum.dim_start=9"), 2, "dim_start");
  const std::string rw = "run icl.reweighting --quick ";
  EXPECT_EXIT_WITH(lmlab(rw + "--set 'biases=[\"tilt:1\"]'"), 2, "unknown bias kind 'tilt'");
  EXPECT_EXIT_WITH(lmlab(rw + "--set 'biases=[\"corrupt_y:1.5\"]'"), 2, "[0, 1]");
  EXPECT_EXIT_WITH(lmlab(rw + "--set 'biases=[\"shift\"]'"), 2, "kind:strength");
  EXPECT_EXIT_WITH(lmlab(rw + "--set ricl.lr=0"), 2, "RICL lr");
  EXPECT_EXIT_WITH(lmlab(rw + "--set prefix.length=0"), 2, "prefix.length");
}

TEST_F(IclCli, BadCheckpointsExitThreeAndAMismatchedDimensionTwo) {
  const auto garbage = dir_ / "garbage.pt";
  std::ofstream(garbage) << "not a checkpoint";
  EXPECT_EXIT_WITH(lmlab("run icl.linear_regression --quick --set learner.checkpoint=" + garbage.string()), 3, "corrupt");
  EXPECT_EXIT_WITH(lmlab("run icl.reweighting --quick --set learner.checkpoint=" + (dir_ / "none.pt").string()), 3,
                   "does not exist");
  torch::manual_seed(0);
  const auto other = dir_ / "d3.pt";
  lmlab::icl::save_learner(lmlab::icl::InContextLearner(lmlab::icl::InContextLearnerOptions(3, 11).width(32)), other.string());
  EXPECT_EXIT_WITH(lmlab("run icl.linear_regression --quick --set learner.checkpoint=" + other.string()), 2,
                   "holds a learner for d = 3");
}

// A learner trained by one run is cached by its options and reused by the next, across the two
// experiments; the reweighting run then reports every method for the bias.
TEST_F(IclCli, TheCachedLearnerIsFoundAgain) {
  const std::string tiny = " --quick --set training.steps=30 --set learner.cache_dir=cache ";
  const auto first = lmlab("run icl.linear_regression" + tiny + "--set eval_prompts=50");
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("learner: cached as cache/"), std::string::npos) << first.output;
  const auto second = lmlab("run icl.reweighting" + tiny +
                            "--set 'biases=[\"corrupt_y:0.5\"]' --set seeds=[0] --set val_prompts=16 --set test_prompts=16 "
                            "--set ricl.steps=2 --set finetune.steps=2 --set prefix.steps=2");
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("learner: reused the cached checkpoint cache/"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("laricl_costs_a_small_fraction"), std::string::npos) << second.output;
}

}  // namespace
