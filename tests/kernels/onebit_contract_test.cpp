// The calling contract of the one-bit kernels (include/lmlab/kernels/onebit.h) for every kernel
// variant: padding bits are ignored, a row range writes only its columns of Y and ranges compose
// bit for bit, batches beyond one 16-row block, K = 0 and B = 0; and the kernel tables.
#include <cstring>

#include "kernel_test_support.h"

namespace lmlab::kernels::testing {
namespace {

// The four kernels' outputs for one set of operands, compared bitwise (-0 != +0).
struct Outputs {
  std::vector<float> binary_f32, ternary_f32;
  std::vector<int32_t> binary_i8, ternary_i8;
  Outputs(size_t size, int32_t fill)
      : binary_f32(size, static_cast<float>(fill)), ternary_f32(size, static_cast<float>(fill)),
        binary_i8(size, fill), ternary_i8(size, fill) {}
  bool operator==(const Outputs& o) const {
    auto same = [](const auto& a, const auto& b) {
      return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof a[0]) == 0;
    };
    return same(binary_f32, o.binary_f32) && same(ternary_f32, o.ternary_f32) &&
           same(binary_i8, o.binary_i8) && same(ternary_i8, o.ternary_i8);
  }
};

struct Operands {
  int64_t rows, cols, batch;
  PackedBinary binary;
  PackedTernary ternary;
  std::vector<float> xf;
  std::vector<int8_t> xi;
  Operands(int64_t n, int64_t k, int64_t b, uint64_t seed) : rows(n), cols(k), batch(b) {
    std::mt19937_64 rng(seed);
    binary = pack_binary(random_weights(n * k, false, rng).data(), n, k);
    ternary = pack_ternary(random_weights(n * k, true, rng).data(), n, k);
    xf = random_f32(b * k, rng);
    xi = random_i8(b * k, rng);
  }
  Outputs outputs(int32_t fill) const { return Outputs(static_cast<size_t>(batch * rows), fill); }
  void run(const OneBitKernels& t, int64_t begin, int64_t end, Outputs& y) const {
    t.binary_gemm_f32(binary.view(), xf.data(), batch, y.binary_f32.data(), begin, end);
    t.ternary_gemm_f32(ternary.view(), xf.data(), batch, y.ternary_f32.data(), begin, end);
    t.binary_gemm_i8(binary.view(), xi.data(), batch, y.binary_i8.data(), begin, end);
    t.ternary_gemm_i8(ternary.view(), xi.data(), batch, y.ternary_i8.data(), begin, end);
  }
  Outputs run(const OneBitKernels& t) const {
    Outputs y = outputs(0);
    run(t, 0, rows, y);
    return y;
  }
};

class OneBitContractTest : public ::testing::TestWithParam<Variant> {};

TEST_P(OneBitContractTest, PaddingBitsAreIgnored) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  const OneBitKernels& table = GetParam().kernels();
  for (int64_t k : kCols) {
    if (k % kWordBits == 0) continue;
    Operands ops(17, k, 5, seed_for(k, 17, 5, 10));
    const Outputs clean = ops.run(table);
    std::mt19937_64 rng(static_cast<uint64_t>(k));
    scramble_padding(ops.binary.words.data(), static_cast<int64_t>(ops.binary.words.size()),
                     ops.binary.words_per_row, 1, k, rng);
    scramble_padding(ops.ternary.words.data(), static_cast<int64_t>(ops.ternary.words.size()),
                     ops.ternary.words_per_row, 2, k, rng);
    EXPECT_TRUE(ops.run(table) == clean) << "K=" << k;
  }
}

// A range writes exactly its rows' columns of Y, and ranges that cover [0, N) give the one-call
// result bit for bit (what lets callers split rows across threads deterministically).
TEST_P(OneBitContractTest, RowRangeWritesOnlyItsRows) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  const OneBitKernels& table = GetParam().kernels();
  const int32_t sentinel = -12345;
  for (int64_t b : {int64_t{1}, int64_t{5}}) {
    const Operands ops(65, 129, b, seed_for(129, 65, b, 11));
    const Outputs full = ops.run(table), untouched = ops.outputs(sentinel);
    Outputs y = ops.outputs(sentinel);
    ops.run(table, 7, 7, y);
    EXPECT_TRUE(y == untouched) << "the empty range [7, 7) wrote";
    ops.run(table, 3, 30, y);
    auto expect_part = [&](const auto& got, const auto& want, const char* kernel) {
      for (int64_t i = 0; i < b * ops.rows; ++i) {
        const int64_t n = i % ops.rows;
        if (n >= 3 && n < 30)
          EXPECT_EQ(got[i], want[i]) << kernel << " n=" << n;
        else
          EXPECT_EQ(got[i], sentinel) << kernel << " wrote row " << n << " outside [3, 30)";
      }
    };
    expect_part(y.binary_f32, full.binary_f32, "binary_gemm_f32");
    expect_part(y.ternary_f32, full.ternary_f32, "ternary_gemm_f32");
    expect_part(y.binary_i8, full.binary_i8, "binary_gemm_i8");
    expect_part(y.ternary_i8, full.ternary_i8, "ternary_gemm_i8");
    ops.run(table, 0, 3, y);
    ops.run(table, 30, 64, y);
    ops.run(table, 64, 65, y);
    EXPECT_TRUE(y == full) << "B=" << b;
  }
}

// Batches beyond one 16-row block, K = 0 (y = 0) and batch 0 (nothing to write).
TEST_P(OneBitContractTest, LargeAndEmptyShapesMatchScalarTwin) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  const OneBitKernels& table = GetParam().kernels();
  const OneBitKernels& twin = onebit_kernels_for(SimdLevel::Scalar);
  const int32_t sentinel_value = 777;
  // Bound of onebit_test.cpp against the exact sum, for both sides: 5 (K + 1) 2^-24 S, S <= K.
  const int64_t k = 200;
  const double bound = 5.0 * (k + 1) * k / (1 << 24);
  for (int64_t b : {int64_t{17}, int64_t{33}, int64_t{40}}) {
    const Operands ops(9, k, b, seed_for(k, 9, b, 12));
    const Outputs got = ops.run(table), want = ops.run(twin);
    EXPECT_EQ(got.binary_i8, want.binary_i8) << "B=" << b;
    EXPECT_EQ(got.ternary_i8, want.ternary_i8) << "B=" << b;
    for (size_t i = 0; i < got.binary_f32.size(); ++i) {
      EXPECT_NEAR(got.binary_f32[i], want.binary_f32[i], bound) << "B=" << b << " i=" << i;
      EXPECT_NEAR(got.ternary_f32[i], want.ternary_f32[i], bound) << "B=" << b << " i=" << i;
    }
  }
  const Operands no_columns(9, 0, 3, 14);  // K = 0: every y is an empty sum, 0
  Outputs zero = no_columns.outputs(0), y0 = no_columns.outputs(sentinel_value);
  no_columns.run(table, 0, no_columns.rows, y0);
  EXPECT_TRUE(y0 == zero) << "K = 0";
  const Operands empty(9, k, 0, 13);
  Outputs y = empty.outputs(0);
  empty.run(table, 0, empty.rows, y);  // B = 0: no rows of X, no Y; must not touch memory
  EXPECT_TRUE(y.binary_f32.empty());
}

INSTANTIATE_TEST_SUITE_P(Variants, OneBitContractTest, ::testing::ValuesIn(kVariants),
                         variant_name);

TEST(OneBitTables, ScalarTableWorksOnEveryCpu) {
  const OneBitKernels& t = onebit_kernels_for(SimdLevel::Scalar);
  EXPECT_STREQ(t.name, "scalar");
  const float w[] = {1.0f, -1.0f, 1.0f, 0.0f, -1.0f, 0.0f};  // two rows, K = 3
  const PackedBinary pb = pack_binary(w, 2, 3);
  const PackedTernary pt = pack_ternary(w, 2, 3);
  const float xf[] = {1.0f, 2.0f, 4.0f};
  const int8_t xi[] = {1, 2, 4};
  float yf[2];
  int32_t yi[2];
  t.binary_gemm_f32(pb.view(), xf, 1, yf, 0, 2);
  EXPECT_EQ(yf[0], 3.0f);  // 1 - 2 + 4
  EXPECT_EQ(yf[1], 3.0f);  // 0 packs as +1: 1 - 2 + 4
  t.ternary_gemm_f32(pt.view(), xf, 1, yf, 0, 2);
  EXPECT_EQ(yf[1], -2.0f);
  t.binary_gemm_i8(pb.view(), xi, 1, yi, 0, 2);
  EXPECT_EQ(yi[0], 3);
  t.ternary_gemm_i8(pt.view(), xi, 1, yi, 0, 2);
  EXPECT_EQ(yi[1], -2);
}

TEST(OneBitTables, DefaultTableFollowsActiveLevel) {
  const OneBitKernels& t = onebit_kernels();
  EXPECT_EQ(t.level, active_simd_level());
  EXPECT_EQ(&t, &onebit_kernels_for(active_simd_level()));
}

TEST(OneBitTables, VnniTableDiffersOnlyInInt8Kernels) {
  if (!cpu_has_avx512_vnni()) GTEST_SKIP() << "this CPU lacks AVX512-VNNI";
  const OneBitKernels& vnni = onebit_kernels_for(SimdLevel::AVX512);
  const OneBitKernels& plain = onebit_kernels_for(SimdLevel::AVX512, false);
  EXPECT_STREQ(vnni.name, "avx512_vnni");
  EXPECT_STREQ(plain.name, "avx512");
  EXPECT_EQ(vnni.binary_gemm_f32, plain.binary_gemm_f32);
  EXPECT_NE(vnni.binary_gemm_i8, plain.binary_gemm_i8);
}

TEST(OneBitTables, UnsupportedLevelThrows) {
  if (detected_simd_level() == SimdLevel::AVX512) GTEST_SKIP() << "this CPU supports every level";
  try {
    onebit_kernels_for(SimdLevel::AVX512);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("avx512"), std::string::npos) << e.what();
  }
}

// LMLAB_SIMD naming a level the CPU lacks falls back to the detected level with a warning; tested
// through resolve_simd_level with every detected level, since this CPU may have them all.
TEST(SimdOverride, UnsupportedLevelFallsBackWithWarning) {
  std::string warning;
  EXPECT_EQ(resolve_simd_level("avx512", SimdLevel::Scalar, &warning), SimdLevel::Scalar);
  EXPECT_NE(warning.find("LMLAB_SIMD=avx512 is not supported by this CPU; using scalar"), std::string::npos)
      << warning;
  EXPECT_EQ(resolve_simd_level("avx512", SimdLevel::AVX2, &warning), SimdLevel::AVX2);
  EXPECT_NE(warning.find("using avx2"), std::string::npos) << warning;
}

TEST(SimdOverride, UnknownNameFallsBackWithWarning) {
  std::string warning;
  EXPECT_EQ(resolve_simd_level("sse9", SimdLevel::AVX512, &warning), SimdLevel::AVX512);
  EXPECT_NE(warning.find("LMLAB_SIMD=sse9 is unknown (use scalar, avx2 or avx512); using avx512"),
            std::string::npos) << warning;
}

TEST(SimdOverride, SupportedOrUnsetLevelIsTakenSilently) {
  std::string warning = "stale";
  EXPECT_EQ(resolve_simd_level("scalar", SimdLevel::AVX512, &warning), SimdLevel::Scalar);
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_EQ(resolve_simd_level("avx2", SimdLevel::AVX2, &warning), SimdLevel::AVX2);
  EXPECT_EQ(resolve_simd_level(nullptr, SimdLevel::AVX2, &warning), SimdLevel::AVX2);
  EXPECT_EQ(resolve_simd_level("", SimdLevel::Scalar, nullptr), SimdLevel::Scalar);
  EXPECT_TRUE(warning.empty()) << warning;
}

}  // namespace
}  // namespace lmlab::kernels::testing
