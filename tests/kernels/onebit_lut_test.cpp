// The lookup-table kernels (lmlab/kernels/onebit_lut.h) of every level over every combination of
// the awkward sizes K x N x B of kernel_test_support.h (with N also 32, 33 and 100 around the
// 32-row blocks): bit-exact against an exact int64 reference (which the one-bit int8 kernels of
// onebit.h are tested against too), with scrambled padding bits; the tables byte for byte against
// the scalar twin's and against their definition; the int8 extremes through the int16 sums'
// widening; any split of the blocks gives the same rows.
#include <algorithm>

#include "kernel_test_support.h"
#include "lmlab/kernels/onebit_lut.h"

namespace lmlab::kernels::testing {
namespace {

const std::vector<int64_t> kLutRows = {1, 3, 17, 32, 33, 64, 65, 100};

struct Lut {
  std::vector<int8_t> tables;
  std::vector<int32_t> sums;
  LutTables view(int64_t batch) const { return {tables.data(), sums.data(), batch}; }
};

Lut tables_of(const OneBitLutKernels& table, const std::vector<int8_t>& x, int64_t batch, int64_t cols) {
  Lut t;
  t.tables.assign(static_cast<size_t>(batch * lut_pairs(cols) * 64), 0);
  t.sums.assign(static_cast<size_t>(batch), 0);
  table.tables_i8(x.data(), batch, cols, t.tables.data(), t.sums.data());
  return t;
}

// The LUT kernel of `table` on w's packing (padding bits scrambled), blocks [0, split) then the rest.
std::vector<int32_t> run_lut(const OneBitLutKernels& table, bool ternary, const std::vector<float>& w,
                             const std::vector<int8_t>& x, int64_t rows, int64_t cols, int64_t batch,
                             std::mt19937_64& rng, int64_t split = 0) {
  LutWeights lw;
  if (ternary) {
    PackedTernary p = pack_ternary(w.data(), rows, cols);
    scramble_padding(p.words.data(), static_cast<int64_t>(p.words.size()), p.words_per_row, 2, cols, rng);
    lw = lut_layout(p.view());
  } else {
    PackedBinary p = pack_binary(w.data(), rows, cols);
    scramble_padding(p.words.data(), static_cast<int64_t>(p.words.size()), p.words_per_row, 1, cols, rng);
    lw = lut_layout(p.view());
  }
  const Lut t = tables_of(table, x, batch, cols);
  std::vector<int32_t> y(static_cast<size_t>(batch * rows), -7);
  const int64_t blocks = lut_blocks(rows), cut = std::min(split, blocks);
  table.gemm_i8(lw.view(), t.view(batch), y.data(), 0, cut);
  table.gemm_i8(lw.view(), t.view(batch), y.data(), cut, blocks);
  return y;
}

class OneBitLutTest : public ::testing::TestWithParam<Variant> {
 protected:
  const OneBitLutKernels& lut() const { return onebit_lut_kernels_for(GetParam().level); }
};

TEST_P(OneBitLutTest, MatchesTheExactProductBitForBit) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  for (bool ternary : {false, true})
    for_each_i8_case(kLutRows, ternary, 4, [&](int64_t k, int64_t n, int64_t b, const std::vector<float>& w,
                                              const std::vector<int8_t>& x, const std::vector<int64_t>& ref,
                                              std::mt19937_64& rng) {
      const std::vector<int32_t> y = run_lut(lut(), ternary, w, x, n, k, b, rng, /*split=*/1);
      for (int64_t i = 0; i < b * n; ++i)
        ASSERT_EQ(y[i], ref[i]) << (ternary ? "ternary" : "binary") << " K=" << k << " N=" << n << " B=" << b
                                << " at y[" << i / n << "][" << i % n << "]";
    });
}

// T_g[p] = sum of x over the set bits of p, read back from the low and high bytes; the bytes equal
// the scalar twin's.
TEST_P(OneBitLutTest, TablesHoldTheGroupSums) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  for (int64_t k : kCols) {
    std::mt19937_64 rng(seed_for(k, 1, 3, 9));
    std::vector<int8_t> x = random_i8(3 * k, rng);
    x[0] = -128, x[k - 1] = 127;
    const Lut t = tables_of(lut(), x, 3, k), twin = tables_of(onebit_lut_kernels_for(SimdLevel::Scalar), x, 3, k);
    ASSERT_EQ(t.tables, twin.tables) << "K=" << k;
    ASSERT_EQ(t.sums, twin.sums) << "K=" << k;
    const int64_t pairs = lut_pairs(k);
    for (int64_t b = 0; b < 3; ++b) {
      int32_t sum = 0;
      for (int64_t c = 0; c < k; ++c) sum += x[b * k + c];
      ASSERT_EQ(t.sums[b], sum);
      for (int64_t g = 0; g < 2 * pairs; ++g)
        for (int p = 0; p < 16; ++p) {
          int32_t want = 0;
          for (int j = 0; j < 4; ++j)
            if ((p >> j & 1) && 4 * g + j < k) want += x[b * k + 4 * g + j];
          const int8_t* lo = t.tables.data() + (b * pairs + g / 2) * 64 + 16 * (g % 2);
          const int32_t got = static_cast<int16_t>(static_cast<uint8_t>(lo[p]) | static_cast<uint16_t>(lo[32 + p]) << 8);
          ASSERT_EQ(got, want) << "K=" << k << " b=" << b << " g=" << g << " p=" << p;
        }
    }
  }
}

// All x = -128 or 127 against all-(+1) and all-(-1) rows, and x alternating -128, 127 against
// w = sign(x) (ternary P - M = 510 per group): the int16 partial sums near their largest, over
// enough pairs (K = 4096 + 13) to widen many times.
TEST_P(OneBitLutTest, I8ExtremesAreExact) {
  LMLAB_SKIP_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(5);
  for (int64_t k : {int64_t{1}, int64_t{63}, int64_t{248}, int64_t{249}, int64_t{4096 + 13}})
    for (int value : {-128, 127})
      for (float sign : {1.0f, -1.0f}) {
        const std::vector<float> w(static_cast<size_t>(33 * k), sign);
        const std::vector<int8_t> x(static_cast<size_t>(2 * k), static_cast<int8_t>(value));
        const int32_t want = static_cast<int32_t>(sign) * value * static_cast<int32_t>(k);
        for (bool ternary : {false, true})
          for (int32_t got : run_lut(lut(), ternary, w, x, 33, k, 2, rng))
            ASSERT_EQ(got, want) << "K=" << k << " x=" << value << " w=" << sign << (ternary ? " ternary" : " binary");
      }
  const int64_t k = 4096 + 13;
  std::vector<int8_t> x(static_cast<size_t>(k));
  std::vector<float> w(static_cast<size_t>(33 * k));
  int32_t want = 0;
  for (int64_t c = 0; c < k; ++c) {
    x[c] = c % 2 ? 127 : -128;
    want += c % 2 ? 127 : 128;
    for (int64_t n = 0; n < 33; ++n) w[n * k + c] = c % 2 ? 1.0f : -1.0f;
  }
  for (bool ternary : {false, true})
    for (int32_t got : run_lut(lut(), ternary, w, x, 33, k, 1, rng)) ASSERT_EQ(got, want) << (ternary ? "ternary" : "binary");
}

// The AVX-512 level runs the AVX2 kernels; VNNI plays no part.
const Variant kLutVariants[] = {kVariants[0], kVariants[1], kVariants[2]};
INSTANTIATE_TEST_SUITE_P(Variants, OneBitLutTest, ::testing::ValuesIn(kLutVariants), variant_name);

}  // namespace
}  // namespace lmlab::kernels::testing
