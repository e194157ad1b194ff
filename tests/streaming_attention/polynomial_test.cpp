// The exp polynomial against exp on a dense grid (within its stated bound, and the bound not
// vacuous), against the derivative bound of Chebyshev interpolation, NOTES.md's anchor, the
// automatic degree and the refusals; the feature maps against P(c <q,k>) and hand-computed monomials.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/env.h"
#include "lmlab/streaming_attention/polynomial_features.h"
#include "support/usage_error.h"

using namespace lmlab;
using namespace lmlab::streaming_attention;
using lmlab::test_support::usage_error;

namespace {

// max |P(x) / e^x - 1| over 20001 evenly spaced points of [-R, R], in double.
double measured_rel_error(const ExpPolynomial& p) {
  const torch::Tensor x = torch::linspace(-p.radius(), p.radius(), 20001, torch::kDouble);
  return (p(x) / x.exp() - 1).abs().max().item<double>();
}

// The classical bound for interpolation at Chebyshev nodes, |f - p| <= 2 (R/2)^(g+1) max|f^(g+1)|
// / (g+1)!, divided by min e^x = e^-R: R^(g+1) e^(2R) / (2^g (g+1)!).
double derivative_bound(int64_t g, double r) {
  return std::pow(r, g + 1) * std::exp(2 * r) / (std::pow(2.0, g) * std::tgamma(g + 2.0));
}

}  // namespace

TEST(ExpPolynomial, RelativeErrorOnTheRangeIsWithinItsBoundAndTheBoundIsNotVacuous) {
  for (auto [r, g] : {std::pair{1.0, 4}, {2.0, 8}, {2.25, 10}, {4.0, 13}, {6.0, 20}}) {
    const ExpPolynomial p(r, ExpPolynomialOptions().degree(g).max_rel_error(0.5));
    const double measured = measured_rel_error(p);
    EXPECT_LE(measured, p.rel_error_bound()) << "R = " << r << ", g = " << g;
    // The error at x = -R is about 2 I_{g+1}(R) e^R, half the bound's leading term 4 e^R I_{g+1}(R).
    EXPECT_GE(measured, 0.25 * p.rel_error_bound()) << "R = " << r << ", g = " << g;
    EXPECT_LE(p.rel_error_bound(), derivative_bound(g, r)) << "R = " << r << ", g = " << g;
  }
}

TEST(ExpPolynomial, DegreeEightReachesOneInTenThousandOnMinusTwoTwo) {
  // NOTES.md P5: "degree 8 reaches 1e-4 relative error on [-2,2], 13 on [-4,4]".
  EXPECT_NEAR(exp_interpolation_error_bound(8, 2.0), 1e-4, 0.1e-4);
  EXPECT_LE(measured_rel_error(ExpPolynomial(2.0, ExpPolynomialOptions().degree(8).max_rel_error(1.1e-4))), 1e-4);
  EXPECT_LE(measured_rel_error(ExpPolynomial(4.0, ExpPolynomialOptions().degree(13).max_rel_error(1e-3))), 1e-4);
}

TEST(ExpPolynomial, AutomaticDegreeIsTheSmallestThatMeetsTheError) {
  for (double eps : {1e-2, 1e-4, 1e-8}) {
    const ExpPolynomial p(2.25, ExpPolynomialOptions().max_rel_error(eps));
    EXPECT_LE(p.rel_error_bound(), eps);
    EXPECT_GT(exp_interpolation_error_bound(p.degree() - 1, 2.25), eps) << "degree " << p.degree();
  }
}

TEST(ExpPolynomial, LowOrderCoefficientsAreCloseToTaylor) {
  const ExpPolynomial p(1.0, ExpPolynomialOptions().degree(12).max_rel_error(1e-6));
  double factorial = 1;
  for (int64_t m = 0; m <= 4; ++m) {
    if (m > 0) factorial *= static_cast<double>(m);
    EXPECT_NEAR(p.coefficients()[m] * factorial, 1.0, 1e-6) << "a_" << m;
  }
}

TEST(ExpPolynomial, RefusesScoresTooLargeForTheRequestedError) {
  std::string m = usage_error([] { ExpPolynomial(20.0, ExpPolynomialOptions().max_rel_error(1e-6).max_degree(12)); });
  EXPECT_MENTIONS(m, "[-20, 20]");
  EXPECT_MENTIONS(m, "max_degree is 12");
  EXPECT_MENTIONS(m, "bound the entries");
  m = usage_error([] { ExpPolynomial(2.0, ExpPolynomialOptions().degree(3).max_rel_error(1e-4)); });
  EXPECT_MENTIONS(m, "degree 3 only guarantees");
  EXPECT_MENTIONS(m, "would take degree 8");
  usage_error([] { ExpPolynomial(-1.0); });
  usage_error([] { ExpPolynomial(std::nan("")); });
  usage_error([] { ExpPolynomial(1.0, ExpPolynomialOptions().max_rel_error(1.5)); });
  usage_error([] { ExpPolynomial(1.0, ExpPolynomialOptions().degree(-1)); });
}

// Found by the `pyargs` fuzz target: a score radius of 3e11 (entry bound 1e5 from Python) made the
// bound's O(R^2) sum run for good, and a degree or max_degree of 2^40 would have been searched or
// allocated. Past R = 700 e^R overflows and the bound is infinite at once; degrees are at most 400.
TEST(ExpPolynomial, HugeRadiiAndDegreesAreAnsweredAtOnce) {
  EXPECT_TRUE(std::isinf(exp_interpolation_error_bound(8, 3.4e11)));
  EXPECT_MENTIONS(usage_error([] { ExpPolynomial(3.4e11); }), "only guarantees relative error inf");
  EXPECT_MENTIONS(usage_error([] { ExpPolynomial(1.0, ExpPolynomialOptions().max_degree(int64_t{1} << 40)); }),
                  "max_degree in [1, 400]");
  EXPECT_MENTIONS(usage_error([] { ExpPolynomial(1.0, ExpPolynomialOptions().degree(int64_t{1} << 40)); }),
                  "degree must be in [0, 400]");
}

// Found by the pyargs fuzz target: 7 variables at degree 65 passed the entry limit and went past
// 2 GiB. The table (2 d + 8 bytes a feature) and each call's features (8 bytes each) meet the
// memory limit; the 495 features of d = 4, g = 8 need 7.9 KB, and 1000 rows of them 3.96 MB.
TEST(PolynomialFeatures, TableAndFeaturesPastTheMemoryLimitAreRefused) {
  const uint64_t limit = memory_limit();
  const auto poly = ExpPolynomial(1.0, ExpPolynomialOptions().degree(8).max_rel_error(0.1));
  set_memory_limit(4000);
  EXPECT_MENTIONS(usage_error([&] { PolynomialFeatures(4, 0.25, poly); }), "(t = 495) would need about");
  set_memory_limit(1 << 20);
  const PolynomialFeatures f(4, 0.25, poly);
  EXPECT_EQ(f.phi2(torch::ones({10, 4})).sizes(), torch::IntArrayRef({10, 495}));
  EXPECT_MENTIONS(usage_error([&] { f.phi2(torch::ones({1000, 4})); }), "polynomial features of 1000 rows");
  set_memory_limit(limit);
}

TEST(PolynomialFeatures, DimensionIsTheNumberOfMonomials) {
  EXPECT_EQ(polynomial_feature_dim(4, 8), 495);
  EXPECT_EQ(polynomial_feature_dim(8, 8), 12870);
  EXPECT_EQ(polynomial_feature_dim(1, 5), 6);
  EXPECT_EQ(polynomial_feature_dim(64, 40), std::numeric_limits<int64_t>::max());  // C(104, 40) overflows
  const PolynomialFeatures f(4, 0.25, ExpPolynomial(1.0, ExpPolynomialOptions().degree(8).max_rel_error(0.1)));
  EXPECT_EQ(f.feature_dim(), 495);
}

TEST(PolynomialFeatures, MonomialsInTheDocumentedOrder) {
  const PolynomialFeatures f(2, 1.0, ExpPolynomial(1.0, ExpPolynomialOptions().degree(3).max_rel_error(0.1)));
  const torch::Tensor m = f.monomials(torch::tensor({{2.0, 3.0}}, torch::kDouble));
  // 1 | x0 x1 | x0*(x0 x1) x1*(x1) | x0*(x0^2 x0x1 x1^2) x1*(x1^2)
  const torch::Tensor want = torch::tensor({{1.0, 2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0}}, torch::kDouble);
  EXPECT_TRUE(torch::equal(m, want)) << m;
}

TEST(PolynomialFeatures, InnerProductIsThePolynomialOfTheScore) {
  torch::manual_seed(11);
  for (auto [d, g, b] : {std::tuple{1, 5, 1.0}, {3, 6, 1.2}, {4, 8, 1.5}, {8, 8, 1.0}, {5, 13, 1.4}}) {
    const double c = 1.0 / d, r = c * d * b * b;
    const PolynomialFeatures f(d, c, ExpPolynomial(r, ExpPolynomialOptions().degree(g).max_rel_error(0.9)));
    const torch::Tensor q = (torch::rand({16, d}, torch::kDouble) * 2 - 1) * b;
    const torch::Tensor k = (torch::rand({16, d}, torch::kDouble) * 2 - 1) * b;
    const torch::Tensor got = (f.phi1(q) * f.phi2(k)).sum(1);
    const torch::Tensor want = f.polynomial()((q * k).sum(1) * c);
    // t <= 12870 products summed in double: a rounding error far below 1e-8 of P >= e^-R / 2.
    EXPECT_LE(((got - want).abs() / want.abs()).max().item<double>(), 1e-8) << "d = " << d << ", g = " << g;
  }
}
