// Private header: not part of lmlab's API. The AVX-512 building blocks of the one-bit kernels
// (contract in onebit_gemm.h); include only from files compiled with the AVX-512 flags
// (CMakeLists.txt, "kernels"). fp32: 16-lane masked adds whose mask is 16 weight bits. int8: one
// 64-column word per step, its coefficients expanded by one masked byte move, then a u8 x s8 dot
// step: DotBw (AVX-512BW) here, DotVnni (vpdpbusd) in dot_vnni.h.
#pragma once

// GCC 12 warns about its own _mm512_undefined_* (GCC bug 105593) wherever AVX-512 intrinsics are
// inlined; the warning points into the intrinsics header, so it is silenced for that header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "kernels/onebit_gemm.h"

namespace lmlab::kernels {
namespace {

// Words per loop step, so that a tile keeps 8 to 16 independent accumulator chains.
constexpr int steps_for(int bt) { return bt == 1 ? 4 : bt == 2 ? 2 : 1; }

// Horizontal sums by folding halves (GCC 12's _mm512_reduce_* trip the warning above).
inline float hsum(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 s = _mm512_castps512_ps128(v);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
inline int32_t hsum(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128i s = _mm512_castsi512_si128(v);
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1))));
}

// acc += the sum of 4 adjacent c (u8) * x (s8) in each int32 lane. vpmaddubsw saturates its int16
// pair sums: exact while 2 * c * 128 < 2^15, and c <= 2 here.
struct DotBw {
  static __m512i step(__m512i acc, __m512i c, __m512i x) {
    const __m512i pairs = _mm512_maddubs_epi16(c, x);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(pairs, _mm512_set1_epi16(1)));
  }
};

template <class Dot>
struct Avx512Isa {
  // Masks are shifted out of the word in a general register: faster here than kmovw from memory
  // or kshift. 4 accumulators per word of a step.
  template <int BT>
  static void masked_sum_tile(const BatchBlock<float>& blk, int t0, WordRange words, Plane plane,
                              float* out) {
    constexpr int kStep = steps_for(BT), kAcc = 4 * kStep;
    __m512 acc[BT][kAcc];
    for (auto& row : acc)
      for (auto& a : row) a = _mm512_setzero_ps();
    for_each_word<BT, kStep>(blk, t0, words, [&](int slot, int64_t w, const float* const* xs) {
      const uint64_t word = plane.words[w * plane.stride];
      for (int c = 0; c < 4; ++c) {
        const __mmask16 m = static_cast<__mmask16>(word >> (16 * c));
        for (int i = 0; i < BT; ++i) {
          __m512& a = acc[i][4 * slot + c];
          a = _mm512_mask_add_ps(a, m, a, _mm512_loadu_ps(xs[i] + 16 * c));
        }
      }
    });
    for (int i = 0; i < BT; ++i) {
      for (int n = kAcc / 2; n > 0; n /= 2)
        for (int a = 0; a < n; ++a) acc[i][a] = _mm512_add_ps(acc[i][a], acc[i][a + n]);
      out[i] = hsum(acc[i][0]);
    }
  }

  template <int BT, typename Coef>
  static void coef_dot_tile(const BatchBlock<int8_t>& blk, int t0, WordRange words, Coef&& coef,
                            int32_t* out) {
    constexpr int kStep = 2 * steps_for(BT);
    __m512i acc[BT][kStep];
    for (auto& row : acc)
      for (auto& a : row) a = _mm512_setzero_si512();
    for_each_word<BT, kStep>(blk, t0, words, [&](int slot, int64_t w, const int8_t* const* xs) {
      const __m512i c = coef(w);
      for (int i = 0; i < BT; ++i)
        acc[i][slot] = Dot::step(acc[i][slot], c, _mm512_loadu_si512(xs[i]));
    });
    for (int i = 0; i < BT; ++i) {
      for (int n = kStep / 2; n > 0; n /= 2)
        for (int a = 0; a < n; ++a) acc[i][a] = _mm512_add_epi32(acc[i][a], acc[i][a + n]);
      out[i] = hsum(acc[i][0]);
    }
  }

  static __m512i binary_coef(uint64_t bits) {
    return _mm512_maskz_mov_epi8(bits, _mm512_set1_epi8(2));
  }
  static __m512i ternary_coef(uint64_t plus, uint64_t minus) {
    const __m512i c = _mm512_mask_mov_epi8(_mm512_set1_epi8(1), plus, _mm512_set1_epi8(2));
    return _mm512_mask_mov_epi8(c, minus, _mm512_setzero_si512());
  }
  static __m512i all_ones_coef() { return _mm512_set1_epi8(1); }
};
using Avx512 = Avx512Isa<DotBw>;

}  // namespace
}  // namespace lmlab::kernels
