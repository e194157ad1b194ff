// The copyright experiments refuse a bad config before any work (exit code 2 through the CLI):
// each --set below is a UsageError naming the key or value, from the experiment's own checks.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "lmlab/core/runner.h"
#include "registry.h"
#include "support/usage_error.h"

namespace lmlab {
namespace {

using test_support::usage_error;

void expect_refused(const std::string& experiment, const std::string& set, const std::string& phrase) {
  RunOptions options;
  options.quick = true;
  options.sets = {set};
  options.out_root = ::testing::TempDir() + "copyright_config_test";
  const std::string message = usage_error([&] { run_experiment(find_experiment(experiment), options); });
  EXPECT_MENTIONS(message, phrase) << " for --set " << set;
}

TEST(CopyrightConfig, LmRefusesBadValuesBeforeAnyWork) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fractions=[0.0]", "must be in (0, 1)"},
      {"fractions=[1.0]", "must be in (0, 1)"},
      {"fractions=[0.01]", "both sets must be non-empty"},  // round(0.01 x 8) = 0 copyrighted documents
      {"fractions=[]", "at least one p"},
      {"gammas=[0.1, 0.5]", "must start with 0"},
      {"gammas=[0.0, -0.5]", "increasing"},
      {"loss.ce_floor=0", "ce_floor"},
      {"data.min_bytes=10", "data.min_bytes (10) must be at least"},
      {"data.documents=1", "data.documents must be in [2,"},
      {"audit.prefix=0", "prefix"},
      {"train.steps=0", "train.batch and the step count"},
      {"model.heads=3", "not divisible by heads"},
      {"seeds=[]", "at least one seed"},
  };
  for (const auto& [set, phrase] : cases) expect_refused("copyright.lm", set, phrase);
}

TEST(CopyrightConfig, SoftmaxRegressionRefusesBadValuesBeforeAnyWork) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"objective.lambda=-1", "lambda"},
      {"objective.loss_floor=0", "loss_floor"},
      {"data.copyrighted=0", "copyrighted must be in [1, tasks - 1]"},
      {"data.copyrighted=16", "copyrighted must be in [1, tasks - 1]"},
      {"gammas=[0.0]", "at least two values"},
      {"gammas=[0.0, -0.1]", "finite and >= 0"},
      {"solver.tolerance=0", "tolerance"},
      {"solver.curve_gamma=-1", "curve_gamma"},
  };
  for (const auto& [set, phrase] : cases) expect_refused("copyright.softmax_regression", set, phrase);
}

}  // namespace
}  // namespace lmlab
