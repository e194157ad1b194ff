// The AVX2 optimizer passes (include/lmlab/kernels/optim_step.h): the fused momentum update and
// step of optim_step_impl.h over vec_avx2.h, and the Gaussian draw 16 pairs at a time (the hash in
// 32-bit lanes; ln, sin and cos by the Cephes single-precision polynomials, about 1 ulp); twins:
// scalar/optim_scalar.cpp.
#include "kernels/avx2/vec_avx2.h"
#include "kernels/kernel_tables.h"
#include "kernels/optim_step_impl.h"
#include "kernels/scalar/vec_scalar.h"

namespace lmlab::kernels {
namespace {

using R = __m256;
using I = __m256i;

I lowbias32(I x) {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(0x7feb352d));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(int32_t(0x846ca68bU)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}

// Two vectors at a time through every stage: each stage is a chain of dependent instructions
// (the polynomials above all), and two independent chains keep the FMA units busy.
constexpr int kH = 2;

// ln x for x in (0, 1]: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, ln m by a
// degree-9 polynomial in m - 1 (ln 2 split in two parts for the rounding).
void log_unit(const R* x, R* out) {
  R e[kH], t[kH], z[kH], y[kH];
  for (int h = 0; h < kH; ++h) {
    const I bits = _mm256_castps_si256(x[h]);
    e[h] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
    const R m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                                    _mm256_set1_epi32(0x3f000000)));  // [0.5, 1)
    const R small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    e[h] = _mm256_sub_ps(e[h], _mm256_and_ps(small, _mm256_set1_ps(1.f)));
    t[h] = _mm256_add_ps(_mm256_sub_ps(m, _mm256_set1_ps(1.f)), _mm256_and_ps(small, m));
    z[h] = _mm256_mul_ps(t[h], t[h]);
    y[h] = _mm256_set1_ps(7.0376836292e-2f);
  }
  for (float c : {-1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f, -1.6668057665e-1f,
                  2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f})
    for (int h = 0; h < kH; ++h) y[h] = _mm256_fmadd_ps(y[h], t[h], _mm256_set1_ps(c));
  for (int h = 0; h < kH; ++h) {
    y[h] = _mm256_mul_ps(_mm256_mul_ps(y[h], t[h]), z[h]);
    y[h] = _mm256_fmadd_ps(e[h], _mm256_set1_ps(-2.12194440e-4f), y[h]);
    y[h] = _mm256_fmadd_ps(z[h], _mm256_set1_ps(-0.5f), y[h]);
    out[h] = _mm256_fmadd_ps(e[h], _mm256_set1_ps(0.693359375f), _mm256_add_ps(t[h], y[h]));
  }
}

// Draws 2 j0 .. 2 j0 + 16 kH - 1 (pairs j0 + 8 h + lane in vector h), in order, into out[0 .. 2 kH).
void gaussian_block(uint32_t j0, I k0, I k1, R* out) {
  const R half = _mm256_set1_ps(0.5f);
  R u1[kH], radius[kH], a[kH];
  I r2[kH];
  for (int h = 0; h < kH; ++h) {
    const I c1 = _mm256_add_epi32(_mm256_set1_epi32(int32_t(2 * j0 + 16 * h)),
                                  _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
    const I r1 = lowbias32(_mm256_xor_si256(lowbias32(_mm256_xor_si256(c1, k0)), k1));
    const I c2 = _mm256_add_epi32(c1, _mm256_set1_epi32(1));
    r2[h] = lowbias32(_mm256_xor_si256(lowbias32(_mm256_xor_si256(c2, k0)), k1));
    u1[h] = _mm256_mul_ps(_mm256_add_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(r1, 1)), half),
                          _mm256_set1_ps(optim::kTwoToMinus31));
    // The angle (q + f) pi / 2 = q pi / 2 + pi / 4 + a, a = (f - 1/2) pi / 2 in [-pi/4, pi/4].
    const R f = _mm256_mul_ps(
        _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(r2[h], 8), _mm256_set1_epi32(0x3fffff))),
                      half),
        _mm256_set1_ps(optim::kTwoToMinus22));
    a[h] = _mm256_mul_ps(_mm256_sub_ps(f, half), _mm256_set1_ps(float(optim::kHalfPi)));
  }
  log_unit(u1, radius);
  for (int h = 0; h < kH; ++h) {
    radius[h] = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.f), radius[h]));
    const R z = _mm256_mul_ps(a[h], a[h]);
    R s = _mm256_fmadd_ps(_mm256_set1_ps(-1.9515295891e-4f), z, _mm256_set1_ps(8.3321608736e-3f));
    s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(-1.6666654611e-1f));
    s = _mm256_fmadd_ps(_mm256_mul_ps(s, z), a[h], a[h]);
    R c = _mm256_fmadd_ps(_mm256_set1_ps(2.443315711809948e-5f), z, _mm256_set1_ps(-1.388731625493765e-3f));
    c = _mm256_fmadd_ps(c, z, _mm256_set1_ps(4.166664568298827e-2f));
    c = _mm256_fmadd_ps(_mm256_mul_ps(c, z), z, _mm256_fmadd_ps(z, _mm256_set1_ps(-0.5f), _mm256_set1_ps(1.f)));
    // cos and sin of pi/4 + a, then q quarter turns: (C, S), (-S, C), (-C, -S), (S, -C).
    const R root_half = _mm256_set1_ps(0.70710678118654752f);
    const R cq = _mm256_mul_ps(_mm256_sub_ps(c, s), root_half), sq = _mm256_mul_ps(_mm256_add_ps(c, s), root_half);
    const I q = _mm256_srli_epi32(r2[h], 30), one = _mm256_set1_epi32(1);
    const R swap = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
    const R sign_x =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(_mm256_xor_si256(q, _mm256_srli_epi32(q, 1)), one), 31));
    const R sign_y = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_srli_epi32(q, 1), 31));
    const R z0 = _mm256_mul_ps(radius[h], _mm256_xor_ps(_mm256_blendv_ps(cq, sq, swap), sign_x));
    const R z1 = _mm256_mul_ps(radius[h], _mm256_xor_ps(_mm256_blendv_ps(sq, cq, swap), sign_y));
    const R l = _mm256_unpacklo_ps(z0, z1), hi = _mm256_unpackhi_ps(z0, z1);
    out[2 * h] = _mm256_permute2f128_ps(l, hi, 0x20);
    out[2 * h + 1] = _mm256_permute2f128_ps(l, hi, 0x31);
  }
}

GaussianDots gaussian_fill_avx2(float* out, const float* x, int64_t n, uint64_t offset, uint64_t key) {
  uint32_t key0, key1;
  optim::stream_keys(key, &key0, &key1);
  const I k0 = _mm256_set1_epi32(int32_t(key0)), k1 = _mm256_set1_epi32(int32_t(key1));
  constexpr int64_t kBlock = 16 * kH;  // draws per gaussian_block
  R vv = _mm256_setzero_ps(), vx = _mm256_setzero_ps();
  R block[2 * kH];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    gaussian_block(uint32_t((offset + i) / 2), k0, k1, block);
    for (int k = 0; k < 2 * kH; ++k) {
      _mm256_storeu_ps(out + i + 8 * k, block[k]);
      vv = _mm256_fmadd_ps(block[k], block[k], vv);
      if (x != nullptr) vx = _mm256_fmadd_ps(block[k], _mm256_loadu_ps(x + i + 8 * k), vx);
    }
  }
  GaussianDots dots{vec::Avx2::reduce_add(vx), vec::Avx2::reduce_add(vv)};
  if (i < n) {  // the last block computed whole, so a draw does not depend on where slices end
    alignas(32) float last[kBlock];
    gaussian_block(uint32_t((offset + i) / 2), k0, k1, block);
    for (int k = 0; k < 2 * kH; ++k) _mm256_store_ps(last + 8 * k, block[k]);
    optim::store_draws(out + i, x == nullptr ? nullptr : x + i, last, n - i, dots);
  }
  return dots;
}

}  // namespace

const OptimKernels kOptimAvx2{"avx2", SimdLevel::AVX2, optim::momentum_update<vec::Avx2, vec::Scalar>,
                              optim::step_along<vec::Avx2, vec::Scalar>, optim::adamw_update<vec::Avx2, vec::Scalar>,
                              gaussian_fill_avx2};

}  // namespace lmlab::kernels
