// The scalar lookup-table kernels of include/lmlab/kernels/onebit_lut.h: fallback and test oracle
// of the AVX2 level. Tables by the recurrence T[p] = T[p with its lowest bit cleared] + x_j (j that
// bit); y by the sums of onebit_lut.h, one row at a time, in int32.
#include <algorithm>

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {
namespace {

void tables_i8(const int8_t* x, int64_t batch, int64_t cols, int8_t* tables, int32_t* sums) {
  const int64_t pairs = lut_pairs(cols);
  for (int64_t b = 0; b < batch; ++b) {
    const int8_t* xb = x + b * cols;
    int32_t sum = 0;
    for (int64_t k = 0; k < cols; ++k) sum += xb[k];
    sums[b] = sum;
    int8_t* t = tables + b * pairs * 64;
    for (int64_t g = 0; g < 2 * pairs; ++g) {
      int16_t entry[16] = {0};
      for (int p = 1; p < 16; ++p) {
        const int j = __builtin_ctz(p);
        const int64_t k = kLutGroup * g + j;
        entry[p] = static_cast<int16_t>(entry[p & (p - 1)] + (k < cols ? xb[k] : 0));
      }
      int8_t* lo = t + (g / 2) * 64 + 16 * (g % 2);
      for (int p = 0; p < 16; ++p) {
        lo[p] = static_cast<int8_t>(entry[p] & 0xff);  // two's complement bytes of the int16
        lo[32 + p] = static_cast<int8_t>(entry[p] >> 8);
      }
    }
  }
}

// T_g[p] from its bytes.
int32_t entry(const int8_t* tables, int64_t pairs, int64_t b, int64_t g, unsigned p) {
  const int8_t* lo = tables + (b * pairs + g / 2) * 64 + 16 * (g % 2);
  return static_cast<int16_t>(static_cast<uint8_t>(lo[p]) | static_cast<uint16_t>(lo[32 + p]) << 8);
}

void gemm_i8(const LutView& w, const LutTables& t, int32_t* y, int64_t block_begin, int64_t block_end) {
  const int64_t pairs = lut_pairs(w.cols);
  const int64_t row_end = std::min(block_end * kLutBlockRows, w.rows);
  for (int64_t n = block_begin * kLutBlockRows; n < row_end; ++n) {
    const int64_t r = n / kLutBlockRows, i = n % 16, high = (n % kLutBlockRows) / 16;
    for (int64_t b = 0; b < t.batch; ++b) {
      int32_t plane_sum[2] = {0, 0};
      for (int64_t p = 0; p < w.planes; ++p)
        for (int64_t g = 0; g < 2 * pairs; ++g) {
          const uint8_t byte = w.bytes[((r * pairs + g / 2) * w.planes + p) * 32 + 16 * (g % 2) + i];
          plane_sum[p] += entry(t.bytes, pairs, b, g, (byte >> (4 * high)) & 0xf);
        }
      y[b * w.rows + n] = w.planes == 1 ? 2 * plane_sum[0] - t.sums[b] : plane_sum[0] - plane_sum[1];
    }
  }
}

}  // namespace

const OneBitLutKernels kOneBitLutScalar{"scalar", SimdLevel::Scalar, tables_i8, gemm_i8};

}  // namespace lmlab::kernels
