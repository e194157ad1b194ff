// Private header: not part of lmlab's API. The loop shared by the scalar twins of the one-bit
// kernels, the fallback and the oracle the SIMD kernels are tested against: a signed sum over
// k = 0 .. K-1 in four interleaved partial sums (k mod 4, added as (s0 + s1) + (s2 + s3)), which
// breaks the add latency chain without changing the error bound of a sum of K terms.
#pragma once

#include <cstdint>

#include "lmlab/kernels/packed.h"

namespace lmlab::kernels::scalar {

// Word w of row n as (plus, minus) bit-planes: binary bit 1 = +1, bit 0 = -1.
struct Planes {
  uint64_t plus, minus;
};
inline Planes planes(const BinaryView& v, int64_t n, int64_t w) {
  const uint64_t word = v.words[n * v.words_per_row + w];
  return {word, ~word};
}
inline Planes planes(const TernaryView& v, int64_t n, int64_t w) {
  const uint64_t* pair = v.words + (n * v.words_per_row + w) * 2;
  return {pair[0], pair[1]};
}

// w_nk x for bit j of a word: (+1, 0 or -1) * x, exact.
template <typename Acc, typename In>
Acc term(const Planes& p, int j, In x) {
  const int sign = static_cast<int>((p.plus >> j) & 1u) - static_cast<int>((p.minus >> j) & 1u);
  return static_cast<Acc>(sign) * static_cast<Acc>(x);
}

// y[b][n] = sum_k w_nk x[b][k] for n in [row_begin, row_end), accumulated in Acc. Padding bits
// (columns K and beyond) are never read.
template <typename Acc, typename View, typename In, typename Out>
void gemm(const View& w, const In* x, int64_t batch, Out* y, int64_t row_begin, int64_t row_end) {
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t n = row_begin; n < row_end; ++n) {
      Acc acc[4] = {0, 0, 0, 0};
      for (int64_t word = 0; word < w.words_per_row; ++word) {
        const Planes p = planes(w, n, word);
        const In* xw = x + b * w.cols + word * kWordBits;
        const int count = static_cast<int>(
            w.cols - word * kWordBits < kWordBits ? w.cols - word * kWordBits : kWordBits);
        int j = 0;
        for (; j + 4 <= count; j += 4)
          for (int u = 0; u < 4; ++u) acc[u] += term<Acc>(p, j + u, xw[j + u]);
        for (; j < count; ++j) acc[j % 4] += term<Acc>(p, j, xw[j]);
      }
      y[b * w.rows + n] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  }
}

}  // namespace lmlab::kernels::scalar
