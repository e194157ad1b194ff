// The AVX2 lookup-table kernels of include/lmlab/kernels/onebit_lut.h; twins in
// scalar/onebit_lut_scalar.cpp (the same bytes and the same int32 results).
// Tables: per group, T[p] = sum_j (bit j of p) x_j as 16 int16 lanes (masks and adds), split into
//   low and high bytes by vpshufb and laid out per pair by lane permutes.
// Products: per block of 32 rows and pair of groups, one 32-byte load of a plane's nibbles; the low
//   nibbles index rows 0..15, the high nibbles rows 16..31, each 128-bit lane its own group's
//   table (vpshufb), once for the entries' low and once for their high bytes; vpunpck{l,h}bw
//   rebuilds the int16 entries of 8 rows a register. Each lane adds at most sum_{j<4} |x_j| <= 512
//   a pair (ternary's P - M too: a column is in one plane), so the int16 sums take 63 pairs
//   (63 * 512 < 2^15) before they are widened into int32.
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {
namespace {

void tables_i8(const int8_t* x, int64_t batch, int64_t cols, int8_t* tables, int32_t* sums) {
  const int64_t pairs = lut_pairs(cols);
  // Lane p of mask[j] is all ones where bit j of p is set.
  __m256i mask[kLutGroup];
  for (int j = 0; j < kLutGroup; ++j) {
    alignas(32) int16_t m[16];
    for (int p = 0; p < 16; ++p) m[p] = (p >> j) & 1 ? -1 : 0;
    mask[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  }
  // Per lane: the low bytes of its 8 entries, then their high bytes.
  const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,  //
                                         0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int64_t b = 0; b < batch; ++b) {
    const int8_t* xb = x + b * cols;
    int32_t sum = 0;
    for (int64_t k = 0; k < cols; ++k) sum += xb[k];
    sums[b] = sum;
    for (int64_t q = 0; q < pairs; ++q) {
      __m256i half[2];  // [lo(T_g[0..15]) | hi(T_g[0..15])] for g = 2q, 2q + 1
      for (int h = 0; h < 2; ++h) {
        const int64_t k0 = kLutGroup * (2 * q + h);
        __m256i e = _mm256_setzero_si256();
        for (int j = 0; j < kLutGroup; ++j)
          if (k0 + j < cols) e = _mm256_add_epi16(e, _mm256_and_si256(mask[j], _mm256_set1_epi16(xb[k0 + j])));
        // [lo 0..7, hi 0..7 | lo 8..15, hi 8..15] -> [lo 0..7, lo 8..15 | hi 0..7, hi 8..15]
        half[h] = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(e, split), _MM_SHUFFLE(3, 1, 2, 0));
      }
      auto* t = reinterpret_cast<__m256i*>(tables + (b * pairs + q) * 64);
      _mm256_storeu_si256(t, _mm256_permute2x128_si256(half[0], half[1], 0x20));
      _mm256_storeu_si256(t + 1, _mm256_permute2x128_si256(half[0], half[1], 0x31));
    }
  }
}

// Per block: the pairs in chunks of 63 (the int16 limit), each chunk's weights (63 * 32 bytes a
// plane) kept in L1 while every batch row's tables stream past them; a row's int32 sums wait in
// acc32 between chunks.
void gemm_i8(const LutView& w, const LutTables& t, int32_t* y, int64_t block_begin, int64_t block_end) {
  constexpr int64_t kChunkPairs = 63;
  const int64_t pairs = lut_pairs(w.cols);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  // Per batch row, its 32 rows; on the stack for the small batches of inference.
  constexpr int64_t kStackBatch = 8;
  alignas(32) int32_t stack[kLutBlockRows * kStackBatch];
  std::vector<int32_t> heap(t.batch > kStackBatch ? static_cast<size_t>(kLutBlockRows * t.batch) : 0);
  int32_t* const acc32 = t.batch > kStackBatch ? heap.data() : stack;
  for (int64_t r = block_begin; r < block_end; ++r) {
    const uint8_t* block = w.bytes + r * pairs * w.planes * 32;
    std::fill(acc32, acc32 + kLutBlockRows * t.batch, 0);
    for (int64_t q0 = 0; q0 < pairs; q0 += kChunkPairs) {
      const int64_t q1 = std::min(pairs, q0 + kChunkPairs);
      for (int64_t b = 0; b < t.batch; ++b) {
        const int8_t* table = t.bytes + b * pairs * 64;
        __m256i acc[4];  // int16: lane 0 group 2q, lane 1 group 2q + 1, of the same 8 rows
        for (auto& a : acc) a = _mm256_setzero_si256();
        for (int64_t q = q0; q < q1; ++q) {
          const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + q * 64));
          const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + q * 64 + 32));
          for (int64_t p = 0; p < w.planes; ++p) {
            const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + (q * w.planes + p) * 32));
            const __m256i ia = _mm256_and_si256(v, low4), ib = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
            const __m256i la = _mm256_shuffle_epi8(lo, ia), ha = _mm256_shuffle_epi8(hi, ia);
            const __m256i lb = _mm256_shuffle_epi8(lo, ib), hb = _mm256_shuffle_epi8(hi, ib);
            const __m256i e[4] = {_mm256_unpacklo_epi8(la, ha), _mm256_unpackhi_epi8(la, ha),
                                  _mm256_unpacklo_epi8(lb, hb), _mm256_unpackhi_epi8(lb, hb)};
            for (int i = 0; i < 4; ++i) acc[i] = p == 0 ? _mm256_add_epi16(acc[i], e[i]) : _mm256_sub_epi16(acc[i], e[i]);
          }
        }
        for (int i = 0; i < 4; ++i) {
          auto* sums = reinterpret_cast<__m256i*>(acc32 + kLutBlockRows * b + 8 * i);
          const __m256i lanes = _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(acc[i])),
                                                 _mm256_cvtepi16_epi32(_mm256_extracti128_si256(acc[i], 1)));
          _mm256_storeu_si256(sums, _mm256_add_epi32(_mm256_loadu_si256(sums), lanes));
        }
      }
    }
    const int64_t rows = std::min<int64_t>(kLutBlockRows, w.rows - r * kLutBlockRows);
    for (int64_t b = 0; b < t.batch; ++b) {
      alignas(32) int32_t out[kLutBlockRows];
      const __m256i sum = _mm256_set1_epi32(t.sums[b]);
      for (int i = 0; i < 4; ++i) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc32 + kLutBlockRows * b + 8 * i));
        _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8 * i),
                           w.planes == 1 ? _mm256_sub_epi32(_mm256_slli_epi32(a, 1), sum) : a);  // binary: 2 P - T
      }
      std::copy(out, out + rows, y + b * w.rows + r * kLutBlockRows);
    }
  }
}

}  // namespace

const OneBitLutKernels kOneBitLutAvx2{"avx2", SimdLevel::AVX2, tables_i8, gemm_i8};

}  // namespace lmlab::kernels
