// Private header: not part of lmlab's API. The four one-bit kernels of onebit.h written once over
// an ISA's building blocks (Isa = Avx2 from avx2/onebit_avx2.h, Avx512 or Avx512Vnni from
// avx512/), which provide, on a tile of BT rows of X and one weight row (batch_block.h):
//   Isa::masked_sum_tile<BT>(blk, t0, words, plane, out):
//       out[i] = sum of x[t0 + i][k] over the columns k whose bit is set in `plane` (fp32);
//   Isa::coef_dot_tile<BT>(blk, t0, words, coef, out):
//       out[i] = sum_k c_k x[t0 + i][k], c_k in {0, 1, 2} given per word by coef(w) (int8, exact);
//   Isa::binary_coef(bits), Isa::ternary_coef(plus, minus), Isa::all_ones_coef() (all c = 1).
// Shapes: W [N x K] packed, X [B x K], Y [B x N]; T[b] = sum_k x[b][k].
#pragma once

#include "kernels/batch_block.h"

namespace lmlab::kernels {
namespace {

// y = 2 P - T with P[b][n] = the sum of x[b][k] over the set bits of row n (w = 2 bit - 1).
template <class Isa>
void simd_binary_gemm_f32(const BinaryView& w, const float* x, int64_t batch, float* y,
                          int64_t row_begin, int64_t row_end) {
  gemm_blocks(
      x, batch, w.cols, y, w.rows, row_begin, row_end,
      [](const BatchBlock<float>& blk, int t0, auto bt, WordRange words, float* total) {
        Isa::template masked_sum_tile<bt>(blk, t0, words, kAllBitsPlane, total);
      },
      [&w](const BatchBlock<float>& blk, int t0, auto bt, WordRange words, int64_t n, float* out) {
        const uint64_t* row = w.words + n * w.words_per_row;
        Isa::template masked_sum_tile<bt>(blk, t0, words, Plane{row, 1}, out);
        for (int i = 0; i < bt; ++i) out[i] *= 2.0f;
      });
}

// y = P - M, the sums of x[b][k] over the plus and over the minus bits of row n.
template <class Isa>
void simd_ternary_gemm_f32(const TernaryView& w, const float* x, int64_t batch, float* y,
                           int64_t row_begin, int64_t row_end) {
  gemm_blocks(
      x, batch, w.cols, y, w.rows, row_begin, row_end,
      [](const BatchBlock<float>&, int, auto bt, WordRange, float* zero) {
        for (int i = 0; i < bt; ++i) zero[i] = 0.0f;
      },
      [&w](const BatchBlock<float>& blk, int t0, auto bt, WordRange words, int64_t n, float* out) {
        const uint64_t* row = w.words + n * 2 * w.words_per_row;
        float minus[kTileRows];
        Isa::template masked_sum_tile<bt>(blk, t0, words, Plane{row, 2}, out);
        Isa::template masked_sum_tile<bt>(blk, t0, words, Plane{row + 1, 2}, minus);
        for (int i = 0; i < bt; ++i) out[i] -= minus[i];
      });
}

// y = sum_k c_nk x[b][k] - T[b] with c = coef_of_row(n)(word): the int8 kernels, exact.
template <class Isa, typename CoefOfRow>
void simd_gemm_i8(int64_t cols, const int8_t* x, int64_t batch, int32_t* y, int64_t rows,
                  int64_t row_begin, int64_t row_end, CoefOfRow&& coef_of_row) {
  gemm_blocks(
      x, batch, cols, y, rows, row_begin, row_end,
      [](const BatchBlock<int8_t>& blk, int t0, auto bt, WordRange words, int32_t* total) {
        auto ones = [](int64_t) { return Isa::all_ones_coef(); };
        Isa::template coef_dot_tile<bt>(blk, t0, words, ones, total);
      },
      [&](const BatchBlock<int8_t>& blk, int t0, auto bt, WordRange words, int64_t n,
          int32_t* out) { Isa::template coef_dot_tile<bt>(blk, t0, words, coef_of_row(n), out); });
}

// Binary: c = 2 bit, so sum_k c x - T = sum_k (2 bit - 1) x.
template <class Isa>
void simd_binary_gemm_i8(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                         int64_t row_begin, int64_t row_end) {
  simd_gemm_i8<Isa>(w.cols, x, batch, y, w.rows, row_begin, row_end, [&w](int64_t n) {
    const uint64_t* row = w.words + n * w.words_per_row;
    return [row](int64_t word) { return Isa::binary_coef(row[word]); };
  });
}

// Ternary: c = t + 1 in {0, 1, 2}, so sum_k c x - T = sum_k t x.
template <class Isa>
void simd_ternary_gemm_i8(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                          int64_t row_begin, int64_t row_end) {
  simd_gemm_i8<Isa>(w.cols, x, batch, y, w.rows, row_begin, row_end, [&w](int64_t n) {
    const uint64_t* row = w.words + n * 2 * w.words_per_row;
    return [row](int64_t word) { return Isa::ternary_coef(row[2 * word], row[2 * word + 1]); };
  });
}

}  // namespace
}  // namespace lmlab::kernels
