// The learning-rate choice of the ntk_attention.finetune_* experiments (choose_learning_rate and
// check_lr_factors in experiments/common/lr_choice.h): the factor with the lowest
// selection loss wins, a diverged (NaN) run never does, one factor means no choice, and a resumed
// run reuses the stored trials.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "common/lr_choice.h"
#include "support/usage_error.h"

namespace lmlab {
namespace {

namespace fs = std::filesystem;

class LrChoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lmlab_lr_choice_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  RunContext context() const { return RunContext(dir_.string(), Config::from_toml("a = 1\n", "t.toml"), 1, true); }

  // A trial whose selection loss is losses.at(lr); counts its calls.
  std::function<Row(double)> trial(const std::map<double, double>& losses) {
    return [this, losses](double lr) {
      ++calls_;
      return Row{{"score", 10 * lr}, {"selection_loss", losses.at(lr)}};
    };
  }

  fs::path dir_;
  int calls_ = 0;
};

TEST_F(LrChoiceTest, LowestSelectionLossWinsAndItsLrIsRecorded) {
  RunContext ctx = context();
  const Row row = choose_learning_rate(ctx, "m", {0.5, 1.0, 2.0}, 0.01, trial({{0.005, 3.0}, {0.01, 1.0}, {0.02, 2.0}}));
  EXPECT_EQ(calls_, 3);
  EXPECT_DOUBLE_EQ(row_number(row, "score"), 0.1);
  EXPECT_DOUBLE_EQ(row_number(row, "lr"), 0.01);
}

TEST_F(LrChoiceTest, ADivergedRunNeverWinsAndTiesKeepTheFirst) {
  RunContext ctx = context();
  const Row row = choose_learning_rate(ctx, "m", {1.0, 2.0, 3.0}, 1.0, trial({{1.0, NAN}, {2.0, 5.0}, {3.0, 5.0}}));
  EXPECT_DOUBLE_EQ(row_number(row, "lr"), 2.0);
}

TEST_F(LrChoiceTest, OneFactorTrainsOnceUnderThePlainKey) {
  RunContext ctx = context();
  const Row row = choose_learning_rate(ctx, "m", {3.0}, 0.01, [&](double lr) {
    ++calls_;
    return Row{{"score", lr}};  // no selection data needed
  });
  EXPECT_EQ(calls_, 1);
  EXPECT_DOUBLE_EQ(row_number(row, "lr"), 0.03);
  // Stored under "m" itself, so runs made before the choice existed resume unchanged.
  RunContext resumed = context();
  const Row again = resumed.sweep_point("m", [] { return Row{{"score", -1.0}}; });
  EXPECT_DOUBLE_EQ(row_number(again, "score"), 0.03);
}

TEST_F(LrChoiceTest, AResumedRunReusesEveryStoredTrial) {
  const std::map<double, double> losses{{0.25, 2.0}, {0.5, 1.0}};
  {
    RunContext ctx = context();
    choose_learning_rate(ctx, "m", {1.0, 2.0}, 0.25, trial(losses));
  }
  EXPECT_EQ(calls_, 2);
  RunContext resumed = context();
  const Row row = choose_learning_rate(resumed, "m", {1.0, 2.0}, 0.25, trial(losses));
  EXPECT_EQ(calls_, 2);
  EXPECT_DOUBLE_EQ(row_number(row, "lr"), 0.5);
}

TEST(LrFactors, BadFactorsAndAMissingSelectionSetAreUsageErrors) {
  using test_support::usage_error;
  EXPECT_NE(usage_error([] { check_lr_factors({}, 10, "fix"); }).find("non-empty list of positive"), std::string::npos);
  EXPECT_NE(usage_error([] { check_lr_factors({1.0, 0.0}, 10, "fix"); }).find("positive"), std::string::npos);
  const std::string none = usage_error([] { check_lr_factors({1.0, 3.0}, 0, "set selection_examples >= 1"); });
  EXPECT_NE(none.find("set selection_examples >= 1"), std::string::npos) << none;
  EXPECT_NO_THROW(check_lr_factors({1.0}, 0, "fix"));
  EXPECT_NO_THROW(check_lr_factors({1.0, 3.0}, 1, "fix"));
}

}  // namespace
}  // namespace lmlab
