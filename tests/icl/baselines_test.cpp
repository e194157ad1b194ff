// The reference estimators of in-context regression (lmlab/icl/baselines.h) against exact
// identities and hand-computed values.
#include <gtest/gtest.h>

#include "lmlab/core/seed.h"
#include "lmlab/icl/baselines.h"
#include "lmlab/icl/prompts.h"
#include "support/usage_error.h"

namespace lmlab::icl {
namespace {

Prompts prompts(int64_t d, int64_t n, int64_t b, double noise = 0.0) {
  return regression_prompts(RegressionPromptOptions(d, n).noise_std(noise), b, make_generator(4));
}

TEST(Baselines, LeastSquaresIsExactOnNoiselessPromptsFromDExamplesOn) {
  const auto p = prompts(3, 8, 16);
  const auto pred = least_squares_predictions(p.xs, p.ys);
  EXPECT_EQ(pred.sizes(), p.ys.sizes());
  EXPECT_EQ(pred.select(1, 0).abs().max().item<double>(), 0.0);  // no example: the prior mean
  EXPECT_LT((pred.narrow(1, 3, 5) - p.ys.narrow(1, 3, 5)).abs().max().item<double>(), 1e-4);
  EXPECT_GT((pred.select(1, 2) - p.ys.select(1, 2)).abs().max().item<double>(), 1e-2);  // i < d: underdetermined
}

// Ridge with lambda is least squares on the augmented data [X; sqrt(lambda) I], [y; 0].
TEST(Baselines, RidgeEqualsLeastSquaresOnAugmentedData) {
  const auto p = prompts(3, 6, 4, 0.3);
  const double lambda = 0.7;
  const auto pred = ridge_predictions(p.xs, p.ys, lambda).to(torch::kDouble);
  const auto x = p.xs.to(torch::kDouble), y = p.ys.to(torch::kDouble);
  for (int64_t i = 1; i < 6; ++i) {
    const auto X = torch::cat({x.narrow(1, 0, i), std::sqrt(lambda) * torch::eye(3, x.options()).expand({4, 3, 3})}, 1);
    const auto Y = torch::cat({y.narrow(1, 0, i), torch::zeros({4, 3}, y.options())}, 1);
    const auto w = std::get<0>(torch::linalg::lstsq(X, Y.unsqueeze(2), c10::nullopt, c10::nullopt)).squeeze(2);
    EXPECT_TRUE(torch::allclose((w * x.select(1, i)).sum(1), pred.select(1, i), 1e-5, 1e-5)) << "position " << i;
  }
}

// d = 1, x = 0, 1, 2, 10, 3 with y = 1, 2, 3, 4, ?: the query x = 3's three nearest are 2, 1, 0
// (mean y 2); at x = 10 (position 3) the nearest are 2, 1, 0 too; at position 1 only one example.
TEST(Baselines, NearestNeighboursAndAveragingByHand) {
  auto xs = torch::tensor({0.0, 1.0, 2.0, 10.0, 3.0}, torch::kDouble).reshape({1, 5, 1});
  auto ys = torch::tensor({1.0, 2.0, 3.0, 4.0, 0.0}, torch::kDouble).reshape({1, 5});
  const auto knn = nearest_neighbour_predictions(xs, ys, 3);
  EXPECT_TRUE(torch::allclose(knn, torch::tensor({{0.0, 1.0, 1.5, 2.0, 2.0}}, torch::kDouble)));
  // averaging: w_i = mean_j y_j x_j; position 2: (0 + 2)/2 = 1, prediction 1 * 2 = 2
  const auto avg = averaging_predictions(xs, ys);
  EXPECT_NEAR(avg[0][2].item<double>(), 2.0, 1e-12);
  EXPECT_NEAR(avg[0][4].item<double>(), 3.0 * (0 + 2 + 6 + 40) / 4.0, 1e-12);
}

TEST(Baselines, BadInput) {
  const auto p = prompts(2, 3, 2);
  EXPECT_MENTIONS(test_support::usage_error([&] { ridge_predictions(p.xs, p.ys, 0.0); }), "lambda");
  EXPECT_MENTIONS(test_support::usage_error([&] { nearest_neighbour_predictions(p.xs, p.ys, 0); }), "got 0");
  EXPECT_MENTIONS(test_support::usage_error([&] { least_squares_predictions(p.xs, p.ys.narrow(1, 0, 2)); }), "ys [B,N]");
  EXPECT_MENTIONS(test_support::usage_error([&] { normalised_squared_error(p.ys, p.xs, 2); }), "differ in shape");
}

}  // namespace
}  // namespace lmlab::icl
