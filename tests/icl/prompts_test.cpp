// Prompt generators for in-context regression (lmlab/icl/prompts.h): exact identities of the clean
// and biased prompts, seeded determinism, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/seed.h"
#include "lmlab/icl/prompts.h"
#include "support/usage_error.h"

namespace lmlab::icl {
namespace {

using test_support::usage_error;

Prompts clean(int64_t d, int64_t n, int64_t b, uint64_t seed = 1, double noise = 0.0) {
  return regression_prompts(RegressionPromptOptions(d, n).noise_std(noise), b, make_generator(seed));
}

TEST(RegressionPrompts, ShapesLabelsAndSeededDeterminism) {
  const auto p = clean(4, 7, 3);
  EXPECT_EQ(p.xs.sizes(), (std::vector<int64_t>{3, 7, 4}));
  EXPECT_EQ(p.ys.sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_TRUE(torch::allclose(p.ys, torch::einsum("bnd,bd->bn", {p.xs, p.ws}), 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(p.xs, clean(4, 7, 3).xs));
  EXPECT_FALSE(torch::equal(p.xs, clean(4, 7, 3, 2).xs));
  const auto noisy = clean(4, 7, 3, 1, 0.5);
  EXPECT_GT((noisy.ys - torch::einsum("bnd,bd->bn", {noisy.xs, noisy.ws})).abs().max().item<double>(), 1e-3);
}

TEST(RegressionPrompts, CurriculumZeroesInactiveCoordinates) {
  const auto p = regression_prompts(RegressionPromptOptions(5, 4).active_dim(2), 8, make_generator(3));
  EXPECT_EQ(p.xs.narrow(2, 2, 3).abs().max().item<double>(), 0.0);
  EXPECT_GT(p.xs.narrow(2, 0, 2).abs().max().item<double>(), 0.0);
}

TEST(BiasPrompts, EveryKindKeepsTheQueryAndChangesOnlyWhatItSays) {
  const auto p = clean(3, 11, 64, 5, 0.1);
  const int64_t k = 10;
  for (const auto kind : {BiasKind::Shift, BiasKind::Imbalance, BiasKind::CorruptY, BiasKind::Duplicate}) {
    const auto b = bias_prompts(p, PromptBias(kind, kind == BiasKind::Shift ? 2.0 : 0.5), make_generator(9));
    SCOPED_TRACE(bias_kind_name(kind));
    EXPECT_TRUE(torch::equal(b.xs.select(1, k), p.xs.select(1, k)));
    EXPECT_TRUE(torch::equal(b.ys.select(1, k), p.ys.select(1, k)));
    EXPECT_FALSE(torch::equal(b.ys, p.ys));
  }
  // Shift and imbalance move x and keep each example's noise: y - <w,x> unchanged.
  const auto noise = p.ys - torch::einsum("bnd,bd->bn", {p.xs, p.ws});
  for (const auto kind : {BiasKind::Shift, BiasKind::Imbalance}) {
    const auto b = bias_prompts(p, PromptBias(kind, 1.0), make_generator(9));
    EXPECT_TRUE(torch::allclose(b.ys - torch::einsum("bnd,bd->bn", {b.xs, b.ws}), noise, 1e-5, 1e-5));
  }
  const auto shifted = bias_prompts(p, PromptBias(BiasKind::Shift, 2.0), make_generator(9));
  EXPECT_TRUE(torch::allclose(shifted.xs.narrow(1, 0, k) - p.xs.narrow(1, 0, k),
                              torch::full({64, k, 3}, 2.0 / std::sqrt(3.0)), 1e-5, 1e-5));
  // Imbalance at strength 1: every context x in the half-space <x, 1> >= 0, norms kept.
  const auto imb = bias_prompts(p, PromptBias(BiasKind::Imbalance, 1.0), make_generator(9));
  EXPECT_GE(imb.xs.narrow(1, 0, k).sum(2).min().item<double>(), -1e-6);
  EXPECT_TRUE(torch::allclose(imb.xs.norm(2, 2), p.xs.norm(2, 2), 1e-5, 1e-5));
  // CorruptY at 0.3: y of the first round(3) = 3 examples only.
  const auto cor = bias_prompts(p, PromptBias(BiasKind::CorruptY, 0.3), make_generator(9));
  EXPECT_TRUE(torch::equal(cor.xs, p.xs));
  EXPECT_TRUE(torch::equal(cor.ys.narrow(1, 3, 8), p.ys.narrow(1, 3, 8)));
  EXPECT_GT((cor.ys.narrow(1, 0, 3) - p.ys.narrow(1, 0, 3)).abs().min().item<double>(), 0.0);
  // Duplicate at 0.4: examples 1..3 are copies of example 0.
  const auto dup = bias_prompts(p, PromptBias(BiasKind::Duplicate, 0.4), make_generator(9));
  for (int64_t i = 1; i < 4; ++i) EXPECT_TRUE(torch::equal(dup.xs.select(1, i), p.xs.select(1, 0)));
  EXPECT_TRUE(torch::equal(dup.xs.narrow(1, 4, 7), p.xs.narrow(1, 4, 7)));
  EXPECT_EQ(PromptBias(BiasKind::CorruptY, 0.25).corrupted(10), 3);  // round(2.5) away from zero
}

// Labels are sign<w, x>; the share of +1 context labels is Binomial(B K, p) / (B K): with B K =
// 4000 its std is <= 0.008, so |share - p| < 0.04 is a 5-sigma bound.
TEST(LabelSkewedPrompts, LabelsAreSignsAndTheContextShareFollowsP) {
  const auto p = label_skewed_prompts(RegressionPromptOptions(4, 11), 400, 0.8, make_generator(2));
  const auto margin = torch::einsum("bnd,bd->bn", {p.xs, p.ws});
  EXPECT_TRUE(torch::equal(p.ys, torch::where(margin >= 0, torch::ones_like(margin), -torch::ones_like(margin))));
  const double share = (p.ys.narrow(1, 0, 10) > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(share, 0.8, 0.04);
  const double query_share = (p.ys.select(1, 10) > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(query_share, 0.5, 0.13);  // B = 400: std 0.025, 5 sigma
}

TEST(Prompts, BadInputNamesTheValue) {
  EXPECT_MENTIONS(usage_error([] { RegressionPromptOptions(0, 5); }), "got 0");
  EXPECT_MENTIONS(usage_error([] { RegressionPromptOptions(3, 5).active_dim(4).validate(); }), "active_dim");
  EXPECT_MENTIONS(usage_error([] { clean(3, 5, 0); }), "batch");
  EXPECT_MENTIONS(usage_error([] { PromptBias(BiasKind::CorruptY, 1.5); }), "[0, 1]");
  EXPECT_MENTIONS(usage_error([] { PromptBias(BiasKind::Shift, -1.0); }), "-1");
  EXPECT_MENTIONS(usage_error([] { parse_bias_kind("tilt"); }), "corrupt_y");
  EXPECT_MENTIONS(usage_error([] { label_skewed_prompts(RegressionPromptOptions(2, 3), 4, 1.2, make_generator(1)); }),
                  "positive_share");
  auto p = clean(2, 3, 2);
  p.xs[0][0][0] = NAN;
  EXPECT_THROW(bias_prompts(p, PromptBias(BiasKind::Shift, 1.0), make_generator(1)), DataError);
  EXPECT_MENTIONS(usage_error([&] { check_prompts(p.xs.select(0, 0), p.ys, "test"); }), "expected xs [B,N,d]");
}

}  // namespace
}  // namespace lmlab::icl
