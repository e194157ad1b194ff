// Fine-tuning and prefix tuning of the learner on validation prompts (lmlab/icl/prompt_tuning.h):
// what is trained, that the source learner is untouched, that the query loss falls, bad input.
#include <gtest/gtest.h>

#include "lmlab/core/seed.h"
#include "lmlab/icl/prompt_tuning.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/models/parameters.h"
#include "support/usage_error.h"

namespace lmlab::icl {
namespace {

TEST(PromptTuning, PrefixTrainsOnlyThePrefixAndFullTrainsEverything) {
  torch::manual_seed(0);
  InContextLearner trained(InContextLearnerOptions(2, 5).layers(2).heads(2).width(16));
  trained->eval();
  const auto p = bias_prompts(regression_prompts(RegressionPromptOptions(2, 5), 32, make_generator(1)),
                              PromptBias(BiasKind::CorruptY, 0.5), make_generator(2));
  const auto before = trained->forward(p.xs, p.ys).detach().clone();
  const auto prefix = tune_on_prompts(trained, "prefix:3", p.xs, p.ys, PromptTuningOptions().steps(40).lr(1e-2));
  EXPECT_EQ(prefix.trained_parameters, 2 /*layers*/ * 2 /*keys, values*/ * 3 /*M*/ * 16 /*H D*/);
  EXPECT_LT(prefix.losses.back(), prefix.losses.front());
  EXPECT_EQ(prefix.prompt_passes, 40 * 32);
  EXPECT_FALSE(prefix.learner->is_training());
  EXPECT_TRUE(torch::equal(trained->forward(p.xs, p.ys), before));  // the source is untouched
  const auto full = tune_on_prompts(trained, "full", p.xs, p.ys, PromptTuningOptions().steps(40).lr(1e-3).batch(8));
  EXPECT_EQ(full.trained_parameters, count_parameters(*trained));
  EXPECT_LT(full.losses.back(), full.losses.front());
  EXPECT_EQ(full.prompt_passes, 40 * 8);
}

TEST(PromptTuning, BadInput) {
  torch::manual_seed(0);
  InContextLearner trained(InContextLearnerOptions(2, 5).width(16));
  const auto p = regression_prompts(RegressionPromptOptions(2, 5), 4, make_generator(1));
  EXPECT_MENTIONS(test_support::usage_error([&] { tune_on_prompts(trained, "lora:2", p.xs, p.ys); }), "full or prefix:M");
  EXPECT_MENTIONS(test_support::usage_error([&] { tune_on_prompts(trained, "prefix:0", p.xs, p.ys); }), "prefix");
  EXPECT_MENTIONS(test_support::usage_error([&] { tune_on_prompts(trained, "full", p.xs, p.ys, PromptTuningOptions().steps(0)); }),
                  "steps");
}

}  // namespace
}  // namespace lmlab::icl
