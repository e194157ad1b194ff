// RICL and LARICL (lmlab/icl/ricl.h, laricl.h) on the linear-attention learner, whose optimal
// weights are known in closed form (NOTES P9, lmlab/icl/linear_attention.h), and on the
// transformer learner; bad input and divergence.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/seed.h"
#include "lmlab/icl/laricl.h"
#include "lmlab/icl/learner.h"
#include "lmlab/icl/linear_attention.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/icl/ricl.h"
#include "support/usage_error.h"

namespace lmlab::icl {
namespace {

using test_support::usage_error;

// Prompts whose example i carries extra y-noise of variance s2[i]; the query is clean.
Prompts noisy_context(int64_t d, const std::vector<double>& s2, int64_t b, uint64_t seed) {
  const int64_t k = static_cast<int64_t>(s2.size());
  auto gen = make_generator(seed);
  auto p = regression_prompts(RegressionPromptOptions(d, k + 1), b, gen);
  p.xs = p.xs.to(torch::kDouble), p.ys = p.ys.to(torch::kDouble), p.ws = p.ws.to(torch::kDouble);
  const auto std_dev = torch::tensor(s2, torch::kDouble).sqrt();
  p.ys.narrow(1, 0, k).add_(std_dev * torch::randn({b, k}, gen, torch::kDouble));
  return p;
}

TEST(LinearAttention, OptimalWeightsMatchNotesP9) {
  // clean: K / (K + d + 1) at every position
  const auto clean = optimal_linear_attention_weights(5, torch::zeros({10}));
  EXPECT_TRUE(torch::allclose(clean, torch::full({10}, 10.0 / 16.0, torch::kDouble), 0, 1e-14));
  // d = 2, s^2 = (0, 1, 4): D = (3, 4, 7), sum 1/D = 61/84, w_i = (3/D_i) / (145/84)
  const auto w = optimal_linear_attention_weights(2, torch::tensor({0.0, 1.0, 4.0}, torch::kDouble));
  const double norm = 1.0 + 61.0 / 84.0;
  EXPECT_TRUE(torch::allclose(w, torch::tensor({1.0 / norm, 0.75 / norm, 3.0 / 7.0 / norm}, torch::kDouble), 0, 1e-14));
}

// The formula is the stationary point of the analytic expected error d [sum u_i^2 D_ii +
// (sum u_i - 1)^2], u = w / K: its gradient there vanishes (autograd, independent of the formula).
TEST(LinearAttention, OptimalWeightsMinimiseTheExpectedError) {
  const auto s2 = torch::tensor({0.0, 0.5, 3.0, 0.0}, torch::kDouble);
  const int64_t d = 3, k = 4;
  auto w = optimal_linear_attention_weights(d, s2).requires_grad_();
  const auto u = w / static_cast<double>(k);
  const auto err = d * ((u.pow(2) * (s2 + d + 1)).sum() + (u.sum() - 1).pow(2));
  const auto g = torch::autograd::grad({err}, {w})[0];
  EXPECT_LT(g.abs().max().item<double>(), 1e-14);
}

// LARICL on the linear-attention learner is least squares on the design A_bi = y_bi <x_q, x_bi> / K
// (the predictor is linear in the weights), solved here independently with lstsq.
TEST(LARICL, IsExactLeastSquaresForALinearPredictor) {
  const auto p = noisy_context(3, {0.0, 0.0, 2.0, 0.0}, 200, 3);
  const auto fit = fit_laricl(linear_attention_predictor(), p.xs, p.ys, LARICLOptions().ridge(0.0));
  const auto a = p.ys.narrow(1, 0, 4) * torch::einsum("bkd,bd->bk", {p.xs.narrow(1, 0, 4), p.xs.select(1, 4)}) / 4.0;
  const auto ls = std::get<0>(torch::linalg::lstsq(a, p.ys.select(1, 4).unsqueeze(1), c10::nullopt, c10::nullopt)).squeeze(1);
  EXPECT_TRUE(torch::allclose(fit.weights, ls, 1e-9, 1e-9)) << fit.weights << ls;
  EXPECT_EQ(fit.prompt_passes, 200);
}

// With B validation prompts LARICL's weights estimate the population optimum; their standard
// error, from the residual variance and (A^T A)^-1, is about 0.02 here; 6 standard errors bound
// the deviation (the products y <x, x'> are heavy-tailed, so a wider bound than Gaussian 4-5).
void expect_near_optimum(int64_t d, const std::vector<double>& s2, int64_t b) {
  const auto p = noisy_context(d, s2, b, 11);
  const auto fit = fit_laricl(linear_attention_predictor(), p.xs, p.ys, LARICLOptions().ridge(0.0));
  const int64_t k = static_cast<int64_t>(s2.size());
  const auto a = p.ys.narrow(1, 0, k) * torch::einsum("bkd,bd->bk", {p.xs.narrow(1, 0, k), p.xs.select(1, k)}) / double(k);
  const auto resid = p.ys.select(1, k) - torch::matmul(a, fit.weights);
  const auto se = (resid.pow(2).mean() * torch::linalg::inv(torch::matmul(a.t(), a)).diagonal()).sqrt();
  const auto expected = optimal_linear_attention_weights(d, torch::tensor(s2, torch::kDouble));
  const auto z = ((fit.weights - expected) / se).abs().max().item<double>();
  EXPECT_LT(z, 6.0) << "LARICL " << fit.weights << "\nexpected " << expected << "\nstandard errors " << se;
}

TEST(LARICL, ReproducesTheCleanOptimumKOverKPlusDPlusOne) { expect_near_optimum(3, {0, 0, 0, 0, 0, 0}, 40000); }

TEST(LARICL, ReproducesTheOptimumUnderPerPositionNoise) {
  expect_near_optimum(3, {0.0, 8.0, 0.0, 2.0, 0.0, 16.0}, 40000);
}

// RICL minimises the same loss by Adam; for a linear predictor the loss is a convex quadratic, so
// with full batches it converges to LARICL's exact minimiser.
TEST(RICL, ConvergesToTheExactMinimiserForALinearPredictor) {
  const auto p = noisy_context(3, {0.0, 4.0, 0.0, 1.0}, 500, 5);
  const auto exact = fit_laricl(linear_attention_predictor(), p.xs, p.ys, LARICLOptions().ridge(0.0));
  const auto ricl = fit_ricl(linear_attention_predictor(), p.xs, p.ys, RICLOptions().steps(1500).lr(0.01));
  EXPECT_LT((ricl.weights - exact.weights).abs().max().item<double>(), 5e-3) << ricl.weights << exact.weights;
  EXPECT_LT(ricl.losses.back(), ricl.losses.front());
  EXPECT_EQ(ricl.prompt_passes, 1500 * 500);
  const auto ones = torch::ones({4}, torch::kDouble);
  EXPECT_LT(weighted_query_error(linear_attention_predictor(), p.xs, p.ys, ricl.weights),
            weighted_query_error(linear_attention_predictor(), p.xs, p.ys, ones));
}

TEST(RICL, MiniBatchesAreSeededAndDeterministic) {
  const auto p = noisy_context(2, {0.0, 1.0, 0.0}, 64, 2);
  const auto o = RICLOptions().steps(20).batch(16).seed(3);
  EXPECT_TRUE(torch::equal(fit_ricl(linear_attention_predictor(), p.xs, p.ys, o).weights,
                           fit_ricl(linear_attention_predictor(), p.xs, p.ys, o).weights));
  EXPECT_EQ(fit_ricl(linear_attention_predictor(), p.xs, p.ys, o).prompt_passes, 20 * 16);
}

TEST(Reweighting, DivergenceAndBadInputAreClearErrors) {
  const auto p = noisy_context(2, {0.0, 1.0, 0.0}, 32, 2);
  EXPECT_MENTIONS(usage_error([&] { fit_ricl(linear_attention_predictor(), p.xs, p.ys, RICLOptions().steps(50).lr(1e300)); }),
                  "diverged");
  EXPECT_MENTIONS(usage_error([&] { fit_ricl(linear_attention_predictor(), p.xs, p.ys, RICLOptions().lr(0)); }), "lr");
  EXPECT_MENTIONS(usage_error([&] { fit_laricl(linear_attention_predictor(), p.xs, p.ys, LARICLOptions().ridge(-1)); }),
                  "ridge");
  EXPECT_MENTIONS(usage_error([&] { fit_ricl(linear_attention_predictor(), p.xs.narrow(1, 0, 1), p.ys.narrow(1, 0, 1)); }),
                  ">= 1 example");
  auto bad = p.ys.clone();
  bad[0][0] = NAN;
  EXPECT_THROW(fit_laricl(linear_attention_predictor(), p.xs, bad), DataError);
  EXPECT_MENTIONS(usage_error([&] { weighted_query_error(linear_attention_predictor(), p.xs, p.ys, torch::ones({5})); }),
                  "[K] or [B,K]");
}

// On the transformer learner: LARICL's Jacobian is autograd's (one backward over per-prompt
// weights), checked against the gradient of each prompt's prediction taken alone; RICL lowers its
// fitting loss; a huge lr makes the weights diverge, reported as such.
TEST(Reweighting, OnTheTransformerLearner) {
  torch::manual_seed(0);
  InContextLearner learner(InContextLearnerOptions(2, 5).width(16));
  learner->eval();
  const auto f = learner_predictor(learner);
  const auto p = bias_prompts(regression_prompts(RegressionPromptOptions(2, 5), 16, make_generator(1)),
                              PromptBias(BiasKind::CorruptY, 0.5), make_generator(2));
  const auto fit = fit_laricl(f, p.xs, p.ys, LARICLOptions().ridge(1e-3));
  ASSERT_EQ(fit.weights.sizes(), (std::vector<int64_t>{4}));
  // The solved weights satisfy the normal equations of the linearised loss: J^T (r - J delta) = B lambda delta.
  auto w = torch::ones({16, 4}).requires_grad_();
  const auto pred = f(p.xs, p.ys, w);
  const auto row3 = torch::autograd::grad({pred[3]}, {w}, {}, true)[0][3].to(torch::kDouble);
  const auto jac = torch::autograd::grad({pred.sum()}, {w})[0].to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(jac[3], row3, 1e-6, 1e-6));
  const auto delta = fit.weights - 1.0;
  const auto r = p.ys.select(1, 4).to(torch::kDouble) - pred.detach().to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(torch::matmul(jac.t(), r - torch::matmul(jac, delta)), 16 * 1e-3 * delta, 1e-4, 1e-4));
  const auto ricl = fit_ricl(f, p.xs, p.ys, RICLOptions().steps(30).lr(0.05));
  EXPECT_LT(ricl.losses.back(), ricl.losses.front());
  for (const auto& param : learner->parameters()) EXPECT_FALSE(param.grad().defined());  // the model stays frozen
  EXPECT_MENTIONS(usage_error([&] { fit_ricl(f, p.xs, p.ys, RICLOptions().steps(30).lr(1e30)); }), "diverged");
}

}  // namespace
}  // namespace lmlab::icl
