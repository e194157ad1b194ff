// binary/ternary_gemm_f32 and _i8 of every kernel variant over every combination of the awkward
// sizes K x N x B of kernel_test_support.h (880 shapes per kernel), fixed seeds. int8: bit-exact
// against the scalar twin, and the twin against an exact int64 reference. fp32: against a double
// reference within the bounds below, and bit-exact against the twin and the reference where every
// order of summation is exact (integer inputs).
//
// fp32 bounds. u = 2^-24, the fp32 unit roundoff. A floating-point sum of n terms, in any order
// or tree, is off by at most (n - 1) u sum|terms| + O(u^2) (Higham, "Accuracy and Stability of
// Numerical Algorithms", 2nd ed., sec. 4.2); adding the exact zeros of padding lanes costs nothing.
// With S = sum_k |x[b][k]| and every |partial sum| <= 3 S:
//   scalar twin, signed sum (4 interleaved):  (K - 1) u S;
//   ternary SIMD, y = P - M over disjoint k:  (K - 1) u S + u S = K u S;
//   binary SIMD, y = 2P - T, with T = sum_k x: 2 (K - 1) u S + (K - 1) u S + 3 u S = 3 K u S;
//   SIMD panels (K cut into pieces of >= 64 columns, partial results added): at most K / 64 more
//   additions, each off by at most 3 u S.
// The double reference adds at most K 2^-53 S. Allowed: (K + 1) u S for the twin and
// 4 (K + 1) u S >= 3 K u S + 3 (K / 64 + 1) u S for the SIMD variants, with room for O(u^2).
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "kernel_test_support.h"

namespace lmlab::kernels::testing {
namespace {

constexpr double kUnitRoundoff = 1.0 / (1 << 24);

// Runs `kernel` of `table` on the packing of w (binary or ternary) over all rows.
template <typename In, typename Out>
std::vector<Out> run(const OneBitKernels& table, bool ternary, const std::vector<float>& w,
                     const std::vector<In>& x, int64_t rows, int64_t cols, int64_t batch) {
  std::vector<Out> y(static_cast<size_t>(batch * rows));
  if (ternary) {
    const PackedTernary p = pack_ternary(w.data(), rows, cols);
    if constexpr (std::is_same_v<In, float>)
      table.ternary_gemm_f32(p.view(), x.data(), batch, y.data(), 0, rows);
    else
      table.ternary_gemm_i8(p.view(), x.data(), batch, y.data(), 0, rows);
  } else {
    const PackedBinary p = pack_binary(w.data(), rows, cols);
    if constexpr (std::is_same_v<In, float>)
      table.binary_gemm_f32(p.view(), x.data(), batch, y.data(), 0, rows);
    else
      table.binary_gemm_i8(p.view(), x.data(), batch, y.data(), 0, rows);
  }
  return y;
}

std::string where(int64_t k, int64_t n, int64_t b, int64_t bi, int64_t ni) {
  std::ostringstream s;
  s << "K=" << k << " N=" << n << " B=" << b << " at y[" << bi << "][" << ni << "]";
  return s.str();
}

// |y - ref| <= bound(b) for every entry; reports the first entry that is not.
template <typename Y, typename Bound>
::testing::AssertionResult within(const std::vector<Y>& y, const std::vector<double>& ref,
                                  int64_t k, int64_t n, int64_t b, Bound&& bound) {
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t ni = 0; ni < n; ++ni) {
      const double got = y[bi * n + ni], want = ref[bi * n + ni];
      if (!(std::abs(got - want) <= bound(bi)))
        return ::testing::AssertionFailure() << where(k, n, b, bi, ni) << ": got " << got
                                             << ", reference " << want << ", allowed error "
                                             << bound(bi);
    }
  return ::testing::AssertionSuccess();
}

// integers: x in {-8 .. 8}, where every partial sum is an integer below 2^24, so every order of
// summation is exact and every variant must equal the reference bit for bit (allowed error 0).
void check_f32(const Variant& variant, bool ternary, bool integers) {
  const OneBitKernels& table = variant.kernels();
  const double factor = integers ? 0.0 : variant.level == SimdLevel::Scalar ? 1.0 : 4.0;
  for (int64_t k : kCols)
    for (int64_t n : kRows)
      for (int64_t b : kBatches) {
        std::mt19937_64 rng(seed_for(k, n, b, ternary));
        const std::vector<float> w = random_weights(n * k, ternary, rng);
        std::vector<float> x = random_f32(b * k, rng);
        if (integers)
          for (float& v : x) v = std::round(8.0f * v);
        const std::vector<double> ref = reference<double>(w, x, n, k, b);
        std::vector<double> sum_abs(static_cast<size_t>(b), 0.0);
        for (int64_t i = 0; i < b * k; ++i) sum_abs[i / k] += std::abs(x[i]);
        const auto y = run<float, float>(table, ternary, w, x, n, k, b);
        const double bound = factor * kUnitRoundoff * static_cast<double>(k + 1);
        ASSERT_TRUE(within(y, ref, k, n, b, [&](int64_t bi) { return bound * sum_abs[bi]; }));
      }
}

void check_i8(const Variant& variant, bool ternary) {
  const OneBitKernels& table = variant.kernels();
  const OneBitKernels& twin = onebit_kernels_for(SimdLevel::Scalar);
  for_each_i8_case(kRows, ternary, 2, [&](int64_t k, int64_t n, int64_t b, const std::vector<float>& w,
                                          const std::vector<int8_t>& x, const std::vector<int64_t>& ref,
                                          std::mt19937_64&) {
    const auto y = run<int8_t, int32_t>(table, ternary, w, x, n, k, b);
    const auto y_twin = run<int8_t, int32_t>(twin, ternary, w, x, n, k, b);
    for (int64_t i = 0; i < b * n; ++i) {
      ASSERT_EQ(y_twin[i], ref[i]) << "scalar twin, " << where(k, n, b, i / n, i % n);
      ASSERT_EQ(y[i], y_twin[i]) << where(k, n, b, i / n, i % n);
    }
  });
}

class OneBitKernelTest : public ::testing::TestWithParam<Variant> {};

TEST_P(OneBitKernelTest, BinaryF32IsWithinBoundOfDoubleReference) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  check_f32(GetParam(), false, false);
}

TEST_P(OneBitKernelTest, TernaryF32IsWithinBoundOfDoubleReference) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  check_f32(GetParam(), true, false);
}

TEST_P(OneBitKernelTest, F32IsExactWhereEveryOrderIsExact) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  check_f32(GetParam(), false, true);
  check_f32(GetParam(), true, true);
}

TEST_P(OneBitKernelTest, BinaryI8MatchesScalarTwinBitExactly) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  check_i8(GetParam(), false);
}

TEST_P(OneBitKernelTest, TernaryI8MatchesScalarTwinBitExactly) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  check_i8(GetParam(), true);
}

// The int8 extremes: all x = -128 or all x = 127 against all-(+1) and all-(-1) rows.
TEST_P(OneBitKernelTest, I8ExtremesAreExact) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  const OneBitKernels& table = GetParam().kernels();
  for (int64_t k : {int64_t{1}, int64_t{63}, int64_t{64}, int64_t{4096 + 13}})
    for (int value : {-128, 127})
      for (float sign : {1.0f, -1.0f}) {
        const std::vector<float> w(static_cast<size_t>(2 * k), sign);
        const std::vector<int8_t> x(static_cast<size_t>(3 * k), static_cast<int8_t>(value));
        const int32_t want = static_cast<int32_t>(sign) * value * static_cast<int32_t>(k);
        for (bool ternary : {false, true})
          for (int32_t got : run<int8_t, int32_t>(table, ternary, w, x, 2, k, 3))
            ASSERT_EQ(got, want) << "K=" << k << " x=" << value << " w=" << sign
                                 << (ternary ? " ternary" : " binary");
      }
}

INSTANTIATE_TEST_SUITE_P(Variants, OneBitKernelTest, ::testing::ValuesIn(kVariants), variant_name);

}  // namespace
}  // namespace lmlab::kernels::testing
