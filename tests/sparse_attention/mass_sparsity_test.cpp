// k_eps (lmlab/sparse_attention/sparse_attention.h) on hand-made distributions with known answers, from scores and
// from probability maps; the closed-form Gaussian law against NOTES.md P3's numbers; bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/sparse_attention/mass_sparsity.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/core/error.h"

using namespace lmlab;
using namespace lmlab::sparse_attention;

namespace {
torch::Tensor row(std::vector<double> v) { return torch::tensor(v, torch::kDouble); }
}  // namespace

TEST(KEps, HandMadeDistributions) {
  // 0.5 + 0.3 = 0.8 < 0.9 <= 0.95: three entries hold 90%; 0.8 >= 0.75: two hold 75%.
  const torch::Tensor p = row({0.15, 0.5, 0.05, 0.3});
  EXPECT_EQ(k_eps_from_probabilities(p, 0.1).item<int64_t>(), 3);
  EXPECT_EQ(k_eps_from_probabilities(p, 0.25).item<int64_t>(), 2);
  EXPECT_EQ(k_eps_from_probabilities(p, 0.6).item<int64_t>(), 1);  // 0.5 >= 0.4
  // Uniform over 8: 1 - eps = 0.7 needs ceil(5.6) = 6 entries.
  EXPECT_EQ(k_eps_from_probabilities(torch::full({8}, 0.125, torch::kDouble), 0.3).item<int64_t>(), 6);
  // One-hot: one entry, whatever eps.
  EXPECT_EQ(k_eps_from_probabilities(row({0, 0, 1, 0}), 0.01).item<int64_t>(), 1);
}

TEST(KEps, FromScoresEqualsFromTheirSoftmax) {
  // log p are scores of p; a shift changes nothing; -inf entries are masked.
  const torch::Tensor p = row({0.15, 0.5, 0.05, 0.3});
  EXPECT_EQ(k_eps_from_scores(p.log() + 7.0, 0.1).item<int64_t>(), 3);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(k_eps_from_scores(row({0.0, -inf, 0.0, -inf}), 0.4).item<int64_t>(), 2);
  EXPECT_EQ(k_eps_from_scores(row({0.0, -inf, 0.0, -inf}), 0.6).item<int64_t>(), 1);
}

TEST(KEps, RowsAreIndependentAndMassIsRelativeToTheRowSum) {
  // Batched [2,2,4]; the second row of the second map sums to 2 (read relative to its sum).
  const torch::Tensor maps = torch::stack({torch::stack({row({0.25, 0.25, 0.25, 0.25}), row({1, 0, 0, 0})}),
                                           torch::stack({row({0.7, 0.15, 0.1, 0.05}), row({0.2, 1.0, 0.7, 0.1})})});
  const torch::Tensor k = k_eps_from_probabilities(maps, 0.2);
  EXPECT_EQ(k.sizes(), (torch::IntArrayRef{2, 2}));
  // 0.8 of the mass: 4 x 0.25 -> 4 (0.75 < 0.8); one-hot -> 1; 0.7 + 0.15 -> 2; 1.0 + 0.7 >= 1.6 of 2 -> 2.
  EXPECT_TRUE(torch::equal(k, torch::tensor({4, 1, 2, 2}, torch::kLong).view({2, 2})));
}

TEST(KEpsLaw, NormalTailAndQuantile) {
  EXPECT_DOUBLE_EQ(normal_tail(0.0), 0.5);
  EXPECT_NEAR(normal_quantile(0.9), 1.2815515655446004, 1e-12);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_tail(normal_quantile(0.999)), 0.001, 1e-15);
  // Far tails keep their digits (references: torch.special.ndtri in float64).
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-12);
  EXPECT_NEAR(normal_quantile(1e-20), -9.262340089798409, 1e-12);
  EXPECT_NEAR(normal_quantile(1e-300), -37.0470962993612, 1e-10);
  EXPECT_NEAR(normal_quantile(0.3), -0.5244005127080409, 1e-12);
}

TEST(KEpsLaw, MatchesTheWorkedExamplesOfNotes) {
  // NOTES.md P3, n = 65,536, eps = 0.1: tau 2 -> 15,482, tau 3 -> 2,809, tau 4 -> 215 (rounded).
  EXPECT_NEAR(k_eps_gaussian_law(65536, 2, 0.1), 15482, 10);
  EXPECT_NEAR(k_eps_gaussian_law(65536, 3, 0.1), 2809, 2);
  EXPECT_NEAR(k_eps_gaussian_law(65536, 4, 0.1), 215, 1);
  // tau = 0: softmax is uniform, k = (1 - eps) n.
  EXPECT_NEAR(k_eps_gaussian_law(1000, 0, 0.1), 900, 1e-9);
}

TEST(KEpsLaw, GaussianScoresFollowTheLawAtModerateTau) {
  // n = 2^16 scores N(0, tau^2) with tau = 1.5 (tau^2 = 2.25 < log n = 11.1, where the normaliser
  // concentrates: its relative std is sqrt((e^{tau^2} - 1)/n) = 0.012). k_eps is then a sum of n
  // indicators at a threshold that itself moves by ~1%: a 5% band around the law (a 10^4-fold
  // prediction) holds with a wide margin; the seed is fixed.
  torch::manual_seed(11);
  const int64_t n = 65536;
  const torch::Tensor s = torch::randn({4, n}, torch::kDouble) * 1.5;
  const torch::Tensor k = k_eps_from_scores(s, 0.1).to(torch::kDouble);
  const double law = k_eps_gaussian_law(n, 1.5, 0.1);
  EXPECT_LT((k / law - 1).abs().max().item<double>(), 0.05) << k << " vs " << law;
}

TEST(KEps, BadInput) {
  const torch::Tensor p = row({0.5, 0.5});
  for (double eps : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    EXPECT_THROW(k_eps_from_probabilities(p, eps), UsageError) << eps;
    EXPECT_THROW(k_eps_from_scores(p, eps), UsageError) << eps;
    EXPECT_THROW(k_eps_gaussian_law(10, 1, eps), UsageError) << eps;
  }
  EXPECT_THROW(k_eps_from_probabilities(torch::zeros({2, 0}), 0.1), UsageError);
  EXPECT_THROW(k_eps_from_probabilities(torch::ones({2}, torch::kLong), 0.1), UsageError);
  EXPECT_THROW(k_eps_from_probabilities(row({0.5, -0.1}), 0.1), DataError);
  EXPECT_THROW(k_eps_from_probabilities(row({0.5, std::nan("")}), 0.1), DataError);
  EXPECT_THROW(k_eps_from_probabilities(row({0.0, 0.0}), 0.1), DataError);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(k_eps_from_scores(row({0.0, inf}), 0.1), DataError);
  EXPECT_THROW(k_eps_from_scores(row({-inf, -inf}), 0.1), DataError);
  EXPECT_THROW(k_eps_from_scores(row({0.0, std::nan("")}), 0.1), DataError);
  try {
    k_eps_from_scores(p, 1.0);
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("(0, 1)"), std::string::npos) << e.what();
  }
}
