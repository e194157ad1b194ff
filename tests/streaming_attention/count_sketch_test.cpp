// CountSketch: the sizes of its guarantee, recovery of planted k-sparse columns within
// (1 + eps) times the best k-sparse error over many seeds, exact recovery of exactly sparse
// columns, additivity, determinism under a seed, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/streaming_attention/count_sketch.h"
#include "lmlab/core/seed.h"
#include "support/usage_error.h"

using namespace lmlab;
using namespace lmlab::streaming_attention;
using lmlab::test_support::usage_error;

namespace {

// n x D: per column, k planted entries of magnitude in [1, 2] with random signs at random rows, on
// a dense Gaussian tail of standard deviation `noise`.
torch::Tensor planted(int64_t n, int64_t d, int64_t k, double noise, uint64_t seed) {
  torch::Generator gen = make_generator(seed);
  torch::Tensor x = torch::randn({n, d}, gen, torch::kDouble) * noise;
  for (int64_t c = 0; c < d; ++c) {
    const torch::Tensor rows = torch::randperm(n, gen, torch::kLong).slice(0, 0, k);
    const torch::Tensor sign = torch::randint(0, 2, {k}, gen, torch::kDouble) * 2 - 1;
    x.select(1, c).index_put_({rows}, sign * (1 + torch::rand({k}, gen, torch::kDouble)));
  }
  return x;
}

// ||x_c minus its k largest entries||_2 per column: the best k-sparse error.
torch::Tensor best_k_sparse_error(const torch::Tensor& x, int64_t k) {
  const torch::Tensor sorted = std::get<0>(x.abs().sort(0, /*descending=*/true));
  return sorted.slice(0, k).pow(2).sum(0).sqrt();
}

}  // namespace

TEST(CountSketch, GuaranteeSizesFollowTheDerivation) {
  const CountSketchOptions o = CountSketchOptions::for_guarantee(4, 1.0, 0.01, 2000, 2);
  EXPECT_EQ(o.buckets(), 576);  // 144 k / eps^2
  // p = 4/576 + 1/16; r = ceil(ln(2000 * 2 / 0.01) / KL(1/2 || p)) made odd.
  const double p = 4.0 / 576 + 1.0 / 16, kl = 0.5 * std::log(0.5 / p) + 0.5 * std::log(0.5 / (1 - p));
  int64_t r = static_cast<int64_t>(std::ceil(std::log(2000 * 2 / 0.01) / kl));
  EXPECT_EQ(o.rows(), r % 2 ? r : r + 1);
  EXPECT_EQ(o.rows() % 2, 1);
  EXPECT_EQ(o.columns(), 2);
}

TEST(CountSketch, RecoversPlantedSparseColumnsWithinTheBoundInNinetyNinePercentOfSeeds) {
  const int64_t n = 2000, d = 2, k = 4;
  const double eps = 1.0;
  int successes = 0;
  const int seeds = 100;
  for (int s = 0; s < seeds; ++s) {
    const torch::Tensor x = planted(n, d, k, 0.01, 1000 + s);
    CountSketch sketch(CountSketchOptions::for_guarantee(k, eps, 0.01, n, d).seed(s));
    sketch.add(x.slice(0, 0, 700), 0);  // in two pieces, as a stream
    sketch.add(x.slice(0, 700), 700);
    const SparseColumns y = sketch.decode(k, n);
    ASSERT_EQ(y.indices.sizes(), (std::vector<int64_t>{k, d}));
    const torch::Tensor error = (x - y.dense(n)).norm(2, 0);
    const torch::Tensor best = best_k_sparse_error(x, k);
    // Not vacuous: the zero answer misses the bound by far (||x_c|| > 2.5 (1 + eps) best).
    ASSERT_TRUE((x.norm(2, 0) > 2.5 * (1 + eps) * best).all().item<bool>());
    if ((error <= (1 + eps) * best).all().item<bool>()) ++successes;
  }
  // The guarantee holds with probability >= 0.99 per seed (count_sketch.h).
  EXPECT_GE(successes, 99) << "of " << seeds;
}

TEST(CountSketch, ExactlySparseColumnsComeBackExactly) {
  const int64_t n = 5000, d = 3, k = 5;
  const torch::Tensor x = planted(n, d, k, 0.0, 7);
  CountSketch sketch(CountSketchOptions::for_guarantee(k, 0.5, 0.01, n, d).seed(3));
  sketch.add(x, 0);
  EXPECT_TRUE(torch::equal(sketch.decode(k, n).dense(n), x));
}

TEST(CountSketch, TableIsLinearAndDeterministicUnderASeed) {
  const torch::Tensor x = planted(300, 2, 3, 0.1, 1), x2 = planted(300, 2, 3, 0.1, 2);
  const auto seeded = [](uint64_t seed) { return CountSketchOptions(7, 64, 2).seed(seed); };
  CountSketch a(seeded(5)), b(seeded(5)), sum(seeded(5)), other(seeded(6));
  a.add(x, 0);
  b.add(x, 0);
  other.add(x, 0);
  EXPECT_TRUE(torch::equal(a.table(), b.table()));
  EXPECT_FALSE(torch::equal(a.table(), other.table()));
  sum.add(x + x2, 0);
  b.add(x2, 0);
  EXPECT_TRUE(torch::allclose(sum.table(), b.table(), 1e-12, 1e-12));
  EXPECT_EQ(a.bytes(), 7 * 64 * 2 * 8 + 2 * 4 * 7 * 8);
}

TEST(CountSketch, BadInputIsRefusedWithClearErrors) {
  EXPECT_MENTIONS(usage_error([] { CountSketch(CountSketchOptions(0, 10, 2)); }), "rows, buckets and columns >= 1");
  EXPECT_MENTIONS(usage_error([] { CountSketch(CountSketchOptions(3, -1, 2)); }), "b = -1");
  EXPECT_MENTIONS(usage_error([] { CountSketch(CountSketchOptions(1001, 1000000, 8)); }), "GiB");
  EXPECT_MENTIONS(usage_error([] { CountSketchOptions::for_guarantee(10, 1.0, 0.01, 5, 2); }),
                  "k = 10 exceeds the number of rows n = 5");
  EXPECT_MENTIONS(usage_error([] { CountSketchOptions::for_guarantee(1, 0.0, 0.01, 5, 2); }), "eps > 0");
  CountSketch s(CountSketchOptions(3, 16, 2));
  EXPECT_MENTIONS(usage_error([&] { s.decode(1, 0); }), "add rows first");
  s.add(torch::ones({4, 2}), 0);
  EXPECT_MENTIONS(usage_error([&] { s.decode(5, 4); }), "sparsity k = 5 must be in [1, n] with n = 4");
  EXPECT_MENTIONS(usage_error([&] { s.decode(0, 4); }), "sparsity k = 0");
  EXPECT_MENTIONS(usage_error([&] { s.add(torch::ones({4, 3}), 0); }), "[m, 2]");
  EXPECT_MENTIONS(usage_error([&] { s.add(torch::full({1, 2}, std::nan("")), 4); }), "NaN or Inf");
  EXPECT_MENTIONS(usage_error([&] { s.add(torch::ones({1, 2}), -1); }), "first index -1");
}
