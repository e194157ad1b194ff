// Private header: not part of lmlab's API; include only from files compiled with the AVX-512 flags.
// The AVX-512 vector type of the attention kernels (flash_attention_impl.h, ntk_attention_impl.h).
// 16 lanes; register block 8 rows x 4 vectors: all 32 zmm registers hold accumulators and the FMAs
// take B from memory (measured here: about 120 GFLOP/s on L1-resident 32 x 64 x 64 tiles against
// 80-98 for 6 x 4, a peak of about 122). exp: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a
// degree-6 polynomial for e^r (Cephes expf coefficients, ~1 ulp) and vscalefps for 2^n; inputs
// below -110 give exactly 0 (e^-110 is below half the smallest subnormal).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace lmlab::kernels::vec {

struct Avx512 {
  static constexpr int W = 16, kMR = 8, kNV = 4;
  using R = __m512;
  static R zero() { return _mm512_setzero_ps(); }
  static R set1(float x) { return _mm512_set1_ps(x); }
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R x) { _mm512_storeu_ps(p, x); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R max(R a, R b) { return _mm512_max_ps(a, b); }
  static R exp(R x) {
    x = _mm512_min_ps(_mm512_max_ps(x, set1(-110.f)), set1(88.72f));
    const R n = _mm512_roundscale_ps(mul(x, set1(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    R r = _mm512_fnmadd_ps(n, set1(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, set1(-2.12194440e-4f), r);
    R y = set1(1.9875691500e-4f);
    y = fmadd(y, r, set1(1.3981999507e-3f));
    y = fmadd(y, r, set1(8.3334519073e-3f));
    y = fmadd(y, r, set1(4.1665795894e-2f));
    y = fmadd(y, r, set1(1.6666665459e-1f));
    y = fmadd(y, r, set1(5.0000001201e-1f));
    y = fmadd(y, mul(r, r), add(r, set1(1.f)));
    return _mm512_scalef_ps(y, n);
  }
  static float reduce_max(R x) {
    const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_max_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_max_ss(q, _mm_movehdup_ps(q)));
  }
  static float reduce_add(R x) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(x), _mm512_extractf32x8_ps(x, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
  }
};

}  // namespace lmlab::kernels::vec
