// The accountant against every published value of NOTES.md P6 (Opacus, TF-Privacy), to 1e-6
// relative, plus exact identities (q = 1 is the plain Gaussian; composition is additive) and the
// bad-input errors.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/privacy/rdp_accountant.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

void expect_rel(double got, double want, double rel = 1e-6) {
  EXPECT_LE(std::fabs(got - want), rel * std::fabs(want)) << "got " << got << ", want " << want;
}

TEST(RdpAccountant, DefaultOrdersAreOpacus) {
  const auto o = default_rdp_orders();
  ASSERT_EQ(o.size(), 151u);  // 99 fractional + 52 integer
  EXPECT_DOUBLE_EQ(o.front(), 1.1);
  EXPECT_DOUBLE_EQ(o[98], 10.9);
  EXPECT_DOUBLE_EQ(o[99], 12.0);
  EXPECT_DOUBLE_EQ(o.back(), 63.0);
}

// TF-Privacy rdp_accountant_test: q 0.1, sigma 2, 10 steps, order 5 -> 0.0773696849.
TEST(RdpAccountant, TfPrivacyRdpValue) {
  expect_rel(subsampled_gaussian_rdp(0.1, 2.0, 10, {5.0}).front(), 0.0773696849);
}

// Opacus: sigma 1.5, q 0.04, 2250 steps, delta 1e-5 -> eps 7.32911117143 at order 3.9 (a
// fractional order: the signed series).
TEST(RdpAccountant, OpacusEpsilon) {
  const PrivacySpent s = dp_sgd_epsilon(1.5, 0.04, 2250, 1e-5);
  expect_rel(s.epsilon, 7.32911117143);
  EXPECT_DOUBLE_EQ(s.order, 3.9);
}

// TF-Privacy compute_dp_sgd_privacy (q = batch / n, steps = ceil(epochs n / batch)); its published
// values come from the Balle et al. 2020 conversion (the classic one gives larger epsilons,
// checked below).
TEST(RdpAccountant, TfPrivacyComputeDpSgdPrivacy) {
  PrivacySpent s = dp_sgd_epsilon(1.3, 150.0 / 60000, 6000, 1e-5);
  expect_rel(s.epsilon, 0.7242234026109595);
  EXPECT_DOUBLE_EQ(s.order, 19.0);
  s = dp_sgd_epsilon(1.0, 100.0 / 100000, 30000, 1e-7);
  expect_rel(s.epsilon, 1.4154988495444842);
  EXPECT_DOUBLE_EQ(s.order, 13.0);
  const auto classic = AccountantOptions().conversion(RdpConversion::Classic);
  EXPECT_GT(dp_sgd_epsilon(1.3, 150.0 / 60000, 6000, 1e-5, classic).epsilon, 0.7242234026109595 * 1.05);
}

// Opacus get_noise_multiplier: eps 8, delta 1e-5, q 0.04, 2000 steps -> sigma ~1.3562 (published
// to 5 digits; our bisection is Opacus's, tolerance 0.01).
TEST(RdpAccountant, OpacusInverse) {
  const double sigma = dp_sgd_noise_multiplier(8.0, 0.04, 2000, 1e-5);
  EXPECT_NEAR(sigma, 1.3562, 5e-5);
  const double eps = dp_sgd_epsilon(sigma, 0.04, 2000, 1e-5).epsilon;
  EXPECT_LE(eps, 8.0);
  EXPECT_GT(eps, 8.0 - 0.01);
  const double tight = dp_sgd_noise_multiplier(8.0, 0.04, 2000, 1e-5, AccountantOptions().epsilon_tolerance(1e-6));
  EXPECT_NEAR(dp_sgd_epsilon(tight, 0.04, 2000, 1e-5).epsilon, 8.0, 1e-6);
}

// q = 1: the plain Gaussian mechanism, RDP(a) = a / (2 sigma^2), at integer and fractional orders.
TEST(RdpAccountant, FullBatchIsPlainGaussian) {
  for (double a : {1.5, 2.0, 3.7, 10.0, 63.0})
    for (double sigma : {0.5, 1.0, 3.0}) EXPECT_DOUBLE_EQ(subsampled_gaussian_rdp(1.0, sigma, a), a / (2 * sigma * sigma));
}

// The integer binomial sum and the fractional series agree where they meet: an order just off an
// integer gives nearly the integer's RDP (RDP is continuous in a).
TEST(RdpAccountant, FractionalSeriesMeetsIntegerSum) {
  for (double a : {2.0, 5.0, 12.0}) {
    const double at = subsampled_gaussian_rdp(0.01, 1.1, a);
    expect_rel(subsampled_gaussian_rdp(0.01, 1.1, a + 1e-7), at, 1e-5);
    expect_rel(subsampled_gaussian_rdp(0.01, 1.1, a - 1e-7), at, 1e-5);
  }
}

TEST(RdpAccountant, CompositionIsAdditive) {
  RdpAccountant acc;
  acc.step(1.5, 0.04, 1000);
  acc.step(1.5, 0.04, 1250);
  EXPECT_EQ(acc.steps(), 2250);
  expect_rel(acc.spent(1e-5).epsilon, 7.32911117143, 1e-9);
}

TEST(RdpAccountant, BadInputIsAUsageError) {
  using test_support::usage_error;
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(0.0, 0.1, 10, 1e-5); }), "sigma = 0");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(-1.0, 0.1, 10, 1e-5); }), "sigma = -1");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 0.0, 10, 1e-5); }), "q = 0");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 1.5, 10, 1e-5); }), "q = 1.5");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 0.1, 10, 0.0); }), "delta = 0");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 0.1, 10, 1.0); }), "delta = 1");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 0.1, 0, 1e-5); }), "steps = 0");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(NAN, 0.1, 10, 1e-5); }), "sigma");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_noise_multiplier(0.0, 0.1, 10, 1e-5); }), "target epsilon = 0");
  EXPECT_MENTIONS(usage_error([] { dp_sgd_epsilon(1.0, 0.1, 10, 1e-5, AccountantOptions().orders({0.5})); }),
                  "order 0.5");
  // Found by the pyargs fuzz target: order 1e9 summed 1e9 terms (a minute).
  EXPECT_MENTIONS(usage_error([] { subsampled_gaussian_rdp(0.5, 1e-3, 1e9); }), "must be in (1, 10000]");
  // Found by the pyargs fuzz target: a tolerance of 1e-300 kept the noise-multiplier bisection going.
  EXPECT_MENTIONS(usage_error([] { dp_sgd_noise_multiplier(2.25, 0.5, 4, 0.5, AccountantOptions().epsilon_tolerance(1e-300)); }),
                  "must be in [1e-9, 1)");
  EXPECT_MENTIONS(usage_error([] { RdpAccountant().spent(1e-5); }), "no step");
}

}  // namespace
}  // namespace lmlab::privacy
