// Scaling-law fits: exact recovery of laws with published constants (Kaplan et al. 2020's
// L(N) = (8.8e13 / N)^0.076; Hoffmann et al. 2022's E 1.69, A 406.4, B 410.7, alpha 0.34,
// beta 0.28), the compute frontier on a hand-made example, the bootstrap, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/scaling/power_law.h"

using namespace lmlab;
using namespace lmlab::scaling;

TEST(PowerLaw, RecoversKaplansLawOfParameters) {
  std::vector<double> n, loss;
  for (double x = 1e3; x <= 1e9; x *= 10) {
    n.push_back(x);
    loss.push_back(std::pow(8.8e13 / x, 0.076));
  }
  const PowerLawFit fit = fit_power_law(n, loss);
  EXPECT_NEAR(fit.alpha, 0.076, 1e-12);
  EXPECT_NEAR(fit.scale / 8.8e13, 1.0, 1e-8);
  EXPECT_NEAR(fit.r2, 1.0, 1e-12);
  EXPECT_NEAR(fit.predict(1e5), std::pow(8.8e13 / 1e5, 0.076), 1e-9);
}

TEST(PowerLaw, RSquaredMeasuresTheLogResiduals) {
  // log L = -log x + r with residuals r = (0.1, -0.1, -0.1, 0.1): R^2 must equal its definition,
  // computed here from the fit's own predictions, and be below 1.
  const std::vector<double> x = {1, 2, 4, 8};
  const std::vector<double> r = {0.1, -0.1, -0.1, 0.1};
  std::vector<double> loss;
  for (size_t i = 0; i < x.size(); ++i) loss.push_back(std::exp(-std::log(x[i]) + r[i]));
  const PowerLawFit fit = fit_power_law(x, loss);
  double mean = 0, total = 0, residual = 0;
  for (double l : loss) mean += std::log(l) / 4;
  for (size_t i = 0; i < 4; ++i) {
    total += std::pow(std::log(loss[i]) - mean, 2);
    residual += std::pow(std::log(loss[i]) - std::log(fit.predict(x[i])), 2);
  }
  EXPECT_NEAR(fit.r2, 1 - residual / total, 1e-12);
  EXPECT_LT(fit.r2, 1.0);
}

TEST(PowerLaw, BadInputIsAUsageError) {
  EXPECT_THROW(fit_power_law({1.0}, {1.0}), UsageError);
  EXPECT_THROW(fit_power_law({1.0, 2.0}, {1.0, -1.0}), UsageError);
  EXPECT_THROW(fit_power_law({2.0, 2.0}, {1.0, 0.5}), UsageError);
  EXPECT_THROW(fit_power_law({1.0, 2.0, 3.0}, {1.0, 0.5}), UsageError);
}

TEST(ComputeFrontier, KeepsPointsBelowEveryCheaperPoint) {
  //              0    1    2    3    4    5
  const std::vector<double> c = {1, 2, 2, 4, 8, 3};
  const std::vector<double> l = {5, 4, 3, 3.5, 2, 2.5};
  // By compute: 0 (5), then at c=2 point 2 (3) before 1 (4), 5 (2.5), 3 (3.5 > 2.5: off), 4 (2).
  EXPECT_EQ(compute_frontier(c, l), (std::vector<size_t>{0, 2, 5, 4}));
}

TEST(Chinchilla, RecoversThePublishedFit) {
  const ChinchillaFit truth{1.69, 406.4, 410.7, 0.34, 0.28};
  std::vector<double> n, d, loss;
  for (double x = 1e7; x <= 1e10; x *= 3.1623)
    for (double y = 1e9; y <= 1e12; y *= 3.1623) {
      n.push_back(x);
      d.push_back(y);
      loss.push_back(truth.predict(x, y));
    }
  const ChinchillaFit fit = fit_chinchilla(n, d, loss);
  EXPECT_NEAR(fit.E, 1.69, 1e-3 * 1.69);
  EXPECT_NEAR(fit.A, 406.4, 1e-2 * 406.4);
  EXPECT_NEAR(fit.B, 410.7, 1e-2 * 410.7);
  EXPECT_NEAR(fit.alpha, 0.34, 1e-3);
  EXPECT_NEAR(fit.beta, 0.28, 1e-3);
  EXPECT_GT(fit.r2, 1 - 1e-8);
  EXPECT_THROW(fit_chinchilla({1, 2}, {1, 2}, {1, 2}), UsageError);
}

TEST(Bootstrap, IntervalOfAMeanCoversItAndIsDeterministic) {
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back(std::sin(i * 1.3) + 2.0);  // mean near 2
  double mean = 0;
  for (double x : v) mean += x / v.size();
  const auto stat = [&v](const std::vector<size_t>& idx) {
    double m = 0;
    for (size_t i : idx) m += v[i] / idx.size();
    return std::vector<double>{m, 7.0};
  };
  const auto a = bootstrap_intervals(v.size(), 300, 42, 0.95, stat);
  const auto b = bootstrap_intervals(v.size(), 300, 42, 0.95, stat);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_LT(a[0].low, mean);
  EXPECT_GT(a[0].high, mean);
  // Standard error of the mean of values with sd ~0.7 over 200 points is ~0.05: a 95% interval
  // is ~0.2 wide; it must be neither degenerate nor wider than 1.
  EXPECT_GT(a[0].high - a[0].low, 0.05);
  EXPECT_LT(a[0].high - a[0].low, 1.0);
  EXPECT_EQ(a[0].low, b[0].low);
  EXPECT_EQ(a[1].low, 7.0);
  EXPECT_EQ(a[1].high, 7.0);
  EXPECT_THROW(bootstrap_intervals(10, 20, 1, 0.95, [](const std::vector<size_t>&) -> std::vector<double> {
                 throw UsageError("no fit");
               }),
               UsageError);
}
