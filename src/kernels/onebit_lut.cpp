// The lookup-table kernels' weight layout and table choice (include/lmlab/kernels/onebit_lut.h).
#include "lmlab/kernels/onebit_lut.h"

#include <algorithm>

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {
namespace {

// `planes` {0, 1} planes of rows x cols; plane(n, p) points at row n's words of plane p, the
// planes' words `stride` apart (1 binary, 2 ternary).
LutWeights layout(int64_t rows, int64_t cols, int64_t planes, const uint64_t* words, int64_t words_per_row,
                  int64_t stride) {
  LutWeights out;
  out.rows = rows, out.cols = cols, out.planes = planes;
  const int64_t pairs = lut_pairs(cols), groups = (cols + kLutGroup - 1) / kLutGroup;
  out.bytes.assign(static_cast<size_t>(lut_blocks(rows) * pairs * planes * 32), 0);
  for (int64_t n = 0; n < rows; ++n) {
    const int64_t r = n / kLutBlockRows, i = n % 16, high = (n % kLutBlockRows) / 16;
    for (int64_t p = 0; p < planes; ++p) {
      const uint64_t* row = words + n * words_per_row * stride + p;
      for (int64_t g = 0; g < groups; ++g) {
        const int64_t valid = std::min<int64_t>(kLutGroup, cols - kLutGroup * g);  // columns < K
        const unsigned nibble = (row[(g / 16) * stride] >> (4 * (g % 16))) & ((1u << valid) - 1);
        uint8_t& byte = out.bytes[static_cast<size_t>(((r * pairs + g / 2) * planes + p) * 32 + 16 * (g % 2) + i)];
        byte = static_cast<uint8_t>(byte | nibble << (4 * high));
      }
    }
  }
  return out;
}

}  // namespace

LutWeights lut_layout(const BinaryView& w) { return layout(w.rows, w.cols, 1, w.words, w.words_per_row, 1); }
LutWeights lut_layout(const TernaryView& w) { return layout(w.rows, w.cols, 2, w.words, w.words_per_row, 2); }

const OneBitLutKernels& onebit_lut_kernels_for(SimdLevel level) {
  return table_for_level(level, "onebit_lut_kernels_for", kOneBitLutScalar, kOneBitLutAvx2, kOneBitLutAvx2);
}

const OneBitLutKernels& onebit_lut_kernels() {
  static const OneBitLutKernels& table = onebit_lut_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
