// Private header: not part of lmlab's API. The AVX2 building blocks of the one-bit kernels
// (contract in onebit_gemm.h); include only from files compiled with the AVX2 flags
// (CMakeLists.txt, "kernels"). AVX2 has no mask registers: fp32 turns 8 weight bits into a lane
// mask by shifting each to its lane's sign bit (vpsllvd, vpsrad), int8 turns 32 into a byte mask
// (vpshufb, vpcmpeqb) and uses vpmaddubsw + vpmaddwd as the u8 x s8 dot step.
#pragma once

#include <immintrin.h>

#include "kernels/onebit_gemm.h"

namespace lmlab::kernels {
namespace {

struct Avx2 {
  // Coefficients for the 64 columns of a word: columns 0..31 and 32..63.
  struct Coef {
    __m256i half[2];
  };

  // 8-lane chunks; 8 / BT accumulators per row (8 of the 16 registers).
  template <int BT>
  static void masked_sum_tile(const BatchBlock<float>& blk, int t0, WordRange words, Plane plane,
                              float* out) {
    constexpr int kAcc = BT == 1 ? 8 : BT == 2 ? 4 : 2;
    __m256 acc[BT][kAcc];
    for (auto& row : acc)
      for (auto& a : row) a = _mm256_setzero_ps();
    // Lane j of chunk c (4 chunks per 32-bit half) needs bit 8c + j at its sign: shift 31 - 8c - j.
    const __m256i shift0 = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
    for_each_word<BT, 1>(blk, t0, words, [&](int, int64_t w, const float* const* xs) {
      const uint64_t word = plane.words[w * plane.stride];
      for (int h = 0; h < 2; ++h) {
        const __m256i half = _mm256_set1_epi32(static_cast<int>(word >> (32 * h)));
        for (int c = 0; c < 4; ++c) {
          const __m256i shift = _mm256_sub_epi32(shift0, _mm256_set1_epi32(8 * c));
          const __m256i at_sign = _mm256_sllv_epi32(half, shift);
          const __m256 m = _mm256_castsi256_ps(_mm256_srai_epi32(at_sign, 31));
          const int chunk = 4 * h + c;
          for (int i = 0; i < BT; ++i) {
            __m256& a = acc[i][chunk % kAcc];
            a = _mm256_add_ps(a, _mm256_and_ps(m, _mm256_loadu_ps(xs[i] + 8 * chunk)));
          }
        }
      }
    });
    for (int i = 0; i < BT; ++i) {
      for (int n = kAcc / 2; n > 0; n /= 2)
        for (int a = 0; a < n; ++a) acc[i][a] = _mm256_add_ps(acc[i][a], acc[i][a + n]);
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i][0]), _mm256_extractf128_ps(acc[i][0], 1));
      s = _mm_add_ps(s, _mm_movehl_ps(s, s));
      out[i] = _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
    }
  }

  // vpmaddubsw saturates its int16 pair sums: exact while 2 * c * 128 < 2^15, and c <= 2 here.
  // The add chain has latency 1, so one accumulator per row suffices.
  template <int BT, typename CoefOf>
  static void coef_dot_tile(const BatchBlock<int8_t>& blk, int t0, WordRange words, CoefOf&& coef,
                            int32_t* out) {
    __m256i acc[BT];
    for (auto& a : acc) a = _mm256_setzero_si256();
    const __m256i one16 = _mm256_set1_epi16(1);
    for_each_word<BT, 1>(blk, t0, words, [&](int, int64_t w, const int8_t* const* xs) {
      const Coef c = coef(w);
      for (int h = 0; h < 2; ++h)
        for (int i = 0; i < BT; ++i) {
          const auto* p = reinterpret_cast<const __m256i*>(xs[i] + 32 * h);
          const __m256i pairs = _mm256_maddubs_epi16(c.half[h], _mm256_loadu_si256(p));
          acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(pairs, one16));
        }
    });
    for (int i = 0; i < BT; ++i) {
      __m128i s = _mm256_castsi256_si128(acc[i]);
      s = _mm_add_epi32(s, _mm256_extracti128_si256(acc[i], 1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
      out[i] = _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1))));
    }
  }

  // 0xFF in byte j where bit j of `bits` is set, else 0 (byte j / 8 of the word, spread to 8).
  static __m256i byte_mask(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
  }
  static Coef binary_coef(uint64_t bits) {
    Coef c;
    for (int h = 0; h < 2; ++h)
      c.half[h] = _mm256_and_si256(byte_mask(static_cast<uint32_t>(bits >> (32 * h))),
                                   _mm256_set1_epi8(2));
    return c;
  }
  // 1 - plus_mask + minus_mask, the masks being -1 where set: 2 for +1, 1 for 0, 0 for -1.
  static Coef ternary_coef(uint64_t plus, uint64_t minus) {
    Coef c;
    for (int h = 0; h < 2; ++h) {
      const __m256i p = byte_mask(static_cast<uint32_t>(plus >> (32 * h)));
      const __m256i m = byte_mask(static_cast<uint32_t>(minus >> (32 * h)));
      c.half[h] = _mm256_sub_epi8(_mm256_add_epi8(_mm256_set1_epi8(1), m), p);
    }
    return c;
  }
  static Coef all_ones_coef() { return {{_mm256_set1_epi8(1), _mm256_set1_epi8(1)}}; }
};

}  // namespace
}  // namespace lmlab::kernels
