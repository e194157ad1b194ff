// The fused optimizer passes (lmlab/kernels/optim_step.h) of every SIMD level: the momentum update
// and step against the same float32 operations written as plain loops with std::fma (bit for bit),
// over sizes around the vector width; the Gaussian draw against its scalar twin, for independence
// of slicing, and for its distribution (moments, Kolmogorov-Smirnov distance, tails, keys).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "lmlab/kernels/optim_step.h"

namespace lmlab::kernels {
namespace {

class OptimKernelsTest : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    if (GetParam() > detected_simd_level()) GTEST_SKIP() << "this CPU lacks " << simd_level_name(GetParam());
  }
  const OptimKernels& kernels() const { return optim_kernels_for(GetParam()); }
};

std::vector<float> uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_P(OptimKernelsTest, MomentumUpdateIsTorchsSgdBitForBit) {
  for (int64_t n : {1, 7, 8, 9, 16, 17, 31, 1000}) {
    for (bool first : {true, false})
      for (float wd : {0.f, 0.01f})
        for (bool average : {false, true}) {
          SCOPED_TRACE("n=" + std::to_string(n) + " first=" + std::to_string(first) + " wd=" + std::to_string(wd) +
                       " average=" + std::to_string(average));
          const auto g = uniform(n, 1), p = uniform(n, 2);
          auto b = uniform(n, 3), a = uniform(n, 4);
          auto b_ref = b, a_ref = a;
          const float mu = 0.9f, omd = float(1 - 0.1), theta = 0.7f, omt = float(1 - 0.7);
          double gg = 0, gb0 = 0, ga0 = 0, gb = 0, bb = 0;
          for (int64_t i = 0; i < n; ++i) {
            const float d = wd != 0 ? std::fma(p[i], wd, g[i]) : g[i];
            gb0 += first ? 0 : double(g[i]) * b_ref[i], ga0 += average ? double(g[i]) * a_ref[i] : 0;
            b_ref[i] = first ? d : std::fma(d, omd, b_ref[i] * mu);
            if (average) a_ref[i] = std::fma(b_ref[i], omt, a_ref[i] * theta);
            gg += double(g[i]) * g[i], gb += double(g[i]) * b_ref[i], bb += double(b_ref[i]) * b_ref[i];
          }
          const MomentumUpdateArgs args{g.data(), p.data(), b.data(), average ? a.data() : nullptr, n, mu, omd, wd,
                                        theta, omt, first};
          const MomentumDots dots = kernels().momentum_update(args);
          EXPECT_TRUE(same_bits(b, b_ref));
          EXPECT_TRUE(same_bits(a, a_ref));
          // Dots accumulate in float lanes: relative error within n u of the sum of |terms| (<= n).
          const double tol = 1e-6 * n;
          EXPECT_NEAR(dots.g_g, gg, tol);
          EXPECT_NEAR(dots.g_buffer_before, gb0, tol);
          EXPECT_NEAR(dots.g_average_before, ga0, tol);
          EXPECT_NEAR(dots.g_buffer, gb, tol);
          EXPECT_NEAR(dots.buffer_buffer, bb, tol);
        }
  }
}

TEST_P(OptimKernelsTest, StepAlongIsAnFmaPerTerm) {
  for (int64_t n : {1, 8, 15, 33}) {
    const auto x = uniform(n, 5), y = uniform(n, 6);
    auto p = uniform(n, 7), p_ref = p, q = p, q_ref = p;
    for (int64_t i = 0; i < n; ++i) {
      p_ref[i] = std::fma(x[i], -0.25f, p_ref[i]);
      q_ref[i] = std::fma(std::fma(y[i], 3.f, x[i]), -0.25f, q_ref[i]);
    }
    kernels().step_along(p.data(), x.data(), nullptr, 0.25f, 0.f, n);
    kernels().step_along(q.data(), x.data(), y.data(), 0.25f, 3.f, n);
    EXPECT_TRUE(same_bits(p, p_ref)) << n;
    EXPECT_TRUE(same_bits(q, q_ref)) << n;
  }
}

TEST_P(OptimKernelsTest, AdamWUpdateIsItsFloatOperationsBitForBit) {
  for (int64_t n : {1, 7, 8, 9, 16, 17, 1000}) {
    SCOPED_TRACE(n);
    const auto g = uniform(n, 9);
    auto p = uniform(n, 10), m = uniform(n, 11), v = uniform(n, 12);
    for (auto& x : v) x = x * x;  // a second moment is >= 0
    auto p_ref = p, m_ref = m, v_ref = v;
    const AdamWUpdateArgs args{p.data(), g.data(), m.data(), v.data(), n, 0.99f, 0.9f, float(1 - 0.9), 0.999f,
                               float(1 - 0.999), 0.03f, 1e-8f, -0.004f};
    for (int64_t i = 0; i < n; ++i) {
      m_ref[i] = std::fma(g[i], args.one_minus_beta1, m_ref[i] * args.beta1);
      v_ref[i] = std::fma(args.one_minus_beta2 * g[i], g[i], v_ref[i] * args.beta2);
      const float denom = std::sqrt(v_ref[i]) / args.sqrt_bias_correction2 + args.eps;
      p_ref[i] = std::fma(p_ref[i], args.decay, args.neg_step_size * m_ref[i] / denom);
    }
    kernels().adamw_update(args);
    EXPECT_TRUE(same_bits(m, m_ref));
    EXPECT_TRUE(same_bits(v, v_ref));
    EXPECT_TRUE(same_bits(p, p_ref));
  }
}

TEST_P(OptimKernelsTest, GaussianMatchesTheScalarTwinAndNotTheSlicing) {
  const int64_t n = 1001;
  const uint64_t key = 0x123456789abcdefULL;
  std::vector<float> whole(n), twin(n), sliced(n);
  const auto x = uniform(n, 8);
  const GaussianDots dots = kernels().gaussian_fill(whole.data(), x.data(), n, 6, key);
  optim_kernels_for(SimdLevel::Scalar).gaussian_fill(twin.data(), nullptr, n, 6, key);
  double vx = 0, vv = 0;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(whole[i], twin[i], 2e-6 * std::max(1.f, std::abs(twin[i]))) << i;
    vx += double(whole[i]) * x[i], vv += double(whole[i]) * whole[i];
  }
  EXPECT_NEAR(dots.v_x, vx, 1e-6 * n);
  EXPECT_NEAR(dots.v_v, vv, 1e-6 * n);
  // Slices at even offsets, of odd and even lengths, give the same draws bit for bit.
  for (int64_t start = 0, len = 1; start < n; start += len, len = len * 3 + 1) {
    const int64_t m = std::min(len, n - start);
    if (start % 2) {  // offsets must be even: fill from the pair's start
      kernels().gaussian_fill(sliced.data() + start - 1, nullptr, m + 1, 6 + start - 1, key);
    } else {
      kernels().gaussian_fill(sliced.data() + start, nullptr, m, 6 + start, key);
    }
  }
  EXPECT_TRUE(same_bits(sliced, whole));
}

// The standard normal CDF.
double phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

TEST_P(OptimKernelsTest, GaussianDrawsAreStandardNormal) {
  // 2^20 draws: the mean's standard error is 1e-3, the variance's 1.4e-3, the fourth moment's
  // sqrt(96 / n) = 9.6e-3; checked at 5 standard errors (a false alarm once in 1.7 million runs
  // per moment). Kolmogorov-Smirnov: P(sqrt(n) D > 1.95) = 0.001.
  const int64_t n = 1 << 20;
  std::vector<float> v(n);
  const GaussianDots dots = kernels().gaussian_fill(v.data(), nullptr, n, 0, 42);
  double m1 = 0, m2 = 0, m4 = 0, biggest = 0;
  for (float z : v) m1 += z, m2 += double(z) * z, m4 += std::pow(double(z), 4), biggest = std::max(biggest, double(std::abs(z)));
  m1 /= n, m2 /= n, m4 /= n;
  EXPECT_NEAR(m1, 0, 5e-3);
  EXPECT_NEAR(m2, 1, 5 * 1.4e-3);
  EXPECT_NEAR(m4, 3, 5 * 9.6e-3);
  EXPECT_NEAR(dots.v_v / n, m2, 1e-4);
  EXPECT_LE(biggest, 6.67);  // the radius's bound: sqrt(-2 ln 2^-32)
  EXPECT_GT(biggest, 4.0);   // P(max of 2^20 below 4) = (1 - 6.3e-5)^(2^20), about e^-66
  std::sort(v.begin(), v.end());
  double ks = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double f = phi(v[i]);
    ks = std::max({ks, f - double(i) / n, double(i + 1) / n - f});
  }
  EXPECT_LT(std::sqrt(double(n)) * ks, 1.95);
  // Neighbouring draws (the two of a pair, and across pairs) and two keys are uncorrelated:
  // correlations of 2^19 pairs have standard error 1.4e-3.
  std::vector<float> w(n), other(n);
  kernels().gaussian_fill(w.data(), nullptr, n, 0, 42);
  kernels().gaussian_fill(other.data(), nullptr, n, 0, 43);
  double within = 0, across = 0, keys = 0;
  for (int64_t i = 0; i + 2 < n; i += 2) within += double(w[i]) * w[i + 1], across += double(w[i + 1]) * w[i + 2];
  for (int64_t i = 0; i < n; ++i) keys += double(w[i]) * other[i];
  EXPECT_NEAR(within / (n / 2), 0, 5 * 1.4e-3);
  EXPECT_NEAR(across / (n / 2), 0, 5 * 1.4e-3);
  EXPECT_NEAR(keys / n, 0, 5 * 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Levels, OptimKernelsTest,
                         ::testing::Values(SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512),
                         [](const auto& info) { return std::string(simd_level_name(info.param)); });

}  // namespace
}  // namespace lmlab::kernels
