// Private header: not part of lmlab's API. The flash-attention kernels of
// include/lmlab/kernels/flash_attention.h (contract and equations there), written once over a vector
// type V and instantiated per ISA in {scalar,avx2,avx512}/flash_attention_<isa>.cpp. V provides:
//   W (lanes), R (register type), kMR, kNV (register block: kMR rows x kNV vectors),
//   zero(), set1(f), load(p), store(p, r), fmadd(a, b, c) = a*b + c, add, mul, sub, max,
//   exp(r) (e^x; exactly 0 for -inf), reduce_max(r), reduce_add(r).
// Every tile product is one routine, gemm(): C[m x n] (+)= A(m x k) B[k x n] with A read by
// strides (so A^T costs nothing) and B, C row-major; n is a multiple of W.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "lmlab/kernels/flash_attention.h"

namespace lmlab::kernels::flash {
// Internal linkage: each ISA file compiles its own copy with its own flags, so the linker must not
// merge them (an AVX-512 copy of a helper would otherwise serve the scalar path).
namespace {

constexpr int64_t kQueryTile = kFlashQueryTile;
constexpr int64_t kKeyTile = kFlashKeyTile;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// C[MR x NV*W] (+)= A(MR x k) B[k x NV*W], accumulators in registers.
template <class V, int MR, int NV>
inline void gemm_block(int64_t k, const float* a, int64_t ars, int64_t acs, const float* b,
                       int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  typename V::R acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[r][j] = accumulate ? V::load(c + r * ldc + j * V::W) : V::zero();
  for (int64_t kk = 0; kk < k; ++kk) {
    typename V::R bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + kk * ldb + j * V::W);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const typename V::R ar = V::set1(a[r * ars + kk * acs]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[r][j] = V::fmadd(ar, bv[j], acc[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) V::store(c + r * ldc + j * V::W, acc[r][j]);
}

// gemm_block for nv = 1..NV vectors, chosen at run time.
template <class V, int MR, int NV = V::kNV>
inline void gemm_rows(int nv, int64_t k, const float* a, int64_t ars, int64_t acs, const float* b,
                      int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if constexpr (NV > 1)
    if (nv < NV) return gemm_rows<V, MR, NV - 1>(nv, k, a, ars, acs, b, ldb, c, ldc, accumulate);
  gemm_block<V, MR, NV>(k, a, ars, acs, b, ldb, c, ldc, accumulate);
}

// gemm_rows for mr = 1..MR rows, chosen at run time.
template <class V, int MR = V::kMR>
inline void gemm_tail(int mr, int nv, int64_t k, const float* a, int64_t ars, int64_t acs,
                      const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if constexpr (MR > 1)
    if (mr < MR) return gemm_tail<V, MR - 1>(mr, nv, k, a, ars, acs, b, ldb, c, ldc, accumulate);
  gemm_rows<V, MR>(nv, k, a, ars, acs, b, ldb, c, ldc, accumulate);
}

// C[m x n] (+)= A(m x k) B[k x n], A(i, l) = a[i*ars + l*acs].
template <class V>
void gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t ars, int64_t acs,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t j0 = 0; j0 < n; j0 += V::kNV * V::W) {
    const int nv = static_cast<int>(std::min<int64_t>(V::kNV, (n - j0) / V::W));
    for (int64_t i0 = 0; i0 < m; i0 += V::kMR) {
      const int mr = static_cast<int>(std::min<int64_t>(V::kMR, m - i0));
      gemm_tail<V>(mr, nv, k, a + i0 * ars, ars, acs, b + j0, ldb, c + i0 * ldc + j0, ldc,
                   accumulate);
    }
  }
}

template <class V>
float max_of(const float* x, int64_t n) {
  typename V::R m = V::set1(kMinusInf);
  for (int64_t j = 0; j < n; j += V::W) m = V::max(m, V::load(x + j));
  return V::reduce_max(m);
}

// x <- e^(x - shift); returns the sum of the new x.
template <class V>
float exp_shift(float* x, int64_t n, float shift) {
  const typename V::R sh = V::set1(shift);
  typename V::R sum = V::zero();
  for (int64_t j = 0; j < n; j += V::W) {
    const typename V::R e = V::exp(V::sub(V::load(x + j), sh));
    V::store(x + j, e);
    sum = V::add(sum, e);
  }
  return V::reduce_add(sum);
}

template <class V>
void scale(float* x, int64_t n, float a) {
  const typename V::R av = V::set1(a);
  for (int64_t j = 0; j < n; j += V::W) V::store(x + j, V::mul(V::load(x + j), av));
}

// ds <- p (dp - delta), in place over dp.
template <class V>
void softmax_grad(float* dp, const float* p, int64_t n, float delta) {
  const typename V::R dv = V::set1(delta);
  for (int64_t j = 0; j < n; j += V::W)
    V::store(dp + j, V::mul(V::load(p + j), V::sub(V::load(dp + j), dv)));
}

// Keys row i may see, relative to the tile starting at key j0 (may be <= 0 or >= kKeyTile).
template <class Args>
int64_t visible_keys(const Args& a, int64_t i, int64_t j0) {
  return (a.causal ? std::min(a.s, i + (a.s - a.t) + 1) : a.s) - j0;
}

// Sets the scores of keys the row may not see to -inf.
inline void mask_row(float* s, int64_t visible) {
  std::fill(s + std::clamp<int64_t>(visible, 0, kKeyTile), s + kKeyTile, kMinusInf);
}

template <class V>
void forward(const FlashForwardArgs& a, int64_t row_begin, int64_t row_end) {
  alignas(64) float s[kQueryTile * kKeyTile];
  float m[kQueryTile], l[kQueryTile];
  for (int64_t i0 = row_begin; i0 < row_end; i0 += kQueryTile) {
    const int64_t rows = std::min(kQueryTile, row_end - i0);
    float* o = a.o + i0 * a.dp;
    std::fill(o, o + rows * a.dp, 0.f);
    std::fill(m, m + rows, kMinusInf);
    std::fill(l, l + rows, 0.f);
    const int64_t key_end = visible_keys(a, i0 + rows - 1, 0);  // the tile's last row sees most
    for (int64_t j0 = 0; j0 < key_end; j0 += kKeyTile) {
      gemm<V>(rows, kKeyTile, a.dp, a.q + i0 * a.dp, a.dp, 1, a.kt + j0 * a.dp, kKeyTile, s,
              kKeyTile, false);
      for (int64_t r = 0; r < rows; ++r) {
        float* sr = s + r * kKeyTile;
        mask_row(sr, visible_keys(a, i0 + r, j0));
        // Key 0 is visible to every row, so m[r] is finite from the first tile on.
        const float m_new = std::max(m[r], max_of<V>(sr, kKeyTile));
        const float alpha = m_new == m[r] ? 1.f : std::exp(m[r] - m_new);  // skips most exps
        l[r] = l[r] * alpha + exp_shift<V>(sr, kKeyTile, m_new);
        if (alpha != 1.f) scale<V>(o + r * a.dp, a.dp, alpha);
        m[r] = m_new;
      }
      gemm<V>(rows, a.dp, kKeyTile, s, kKeyTile, 1, a.v + j0 * a.dp, a.dp, o, a.dp, true);
    }
    for (int64_t r = 0; r < rows; ++r) {
      scale<V>(o + r * a.dp, a.dp, 1.f / l[r]);
      a.lse[i0 + r] = m[r] + std::log(l[r]);
    }
  }
}

template <class V>
bool all_finite(const float* x, int64_t n) {
  constexpr int kAcc = 4;  // independent sums, so the adds do not wait on each other
  typename V::R acc[kAcc] = {V::zero(), V::zero(), V::zero(), V::zero()};
  const typename V::R zero = V::zero();
  int64_t i = 0;
  for (; i + kAcc * V::W <= n; i += kAcc * V::W)
    for (int k = 0; k < kAcc; ++k) acc[k] = V::add(acc[k], V::mul(V::load(x + i + k * V::W), zero));
  float tail = 0.f;
  for (; i < n; ++i) tail += x[i] * 0.f;
  return V::reduce_add(V::add(V::add(acc[0], acc[1]), V::add(acc[2], acc[3]))) + tail == 0.f;
}

template <class V>
void backward(const FlashBackwardArgs& a) {
  alignas(64) float p[kQueryTile * kKeyTile];
  alignas(64) float dp[kQueryTile * kKeyTile];
  const int64_t d = a.dp;
  for (int64_t j0 = 0; j0 < a.s; j0 += kKeyTile) {
    // Causal: row i sees key j0 from i = j0 - (S - T) on.
    const int64_t first = a.causal ? std::max<int64_t>(0, j0 - (a.s - a.t)) : 0;
    for (int64_t i0 = first; i0 < a.t; i0 += kQueryTile) {
      const int64_t rows = std::min(kQueryTile, a.t - i0);
      gemm<V>(rows, kKeyTile, d, a.q + i0 * d, d, 1, a.kt + j0 * d, kKeyTile, p, kKeyTile, false);
      for (int64_t r = 0; r < rows; ++r) {
        mask_row(p + r * kKeyTile, visible_keys(a, i0 + r, j0));
        exp_shift<V>(p + r * kKeyTile, kKeyTile, a.lse[i0 + r]);
      }
      // dV_j += P^T dO_i
      gemm<V>(kKeyTile, d, rows, p, 1, kKeyTile, a.dout + i0 * d, d, a.dv + j0 * d, d, true);
      // dP = dO_i V_j^T, then dS = P o (dP - delta)
      gemm<V>(rows, kKeyTile, d, a.dout + i0 * d, d, 1, a.vt + j0 * d, kKeyTile, dp, kKeyTile,
              false);
      for (int64_t r = 0; r < rows; ++r)
        softmax_grad<V>(dp + r * kKeyTile, p + r * kKeyTile, kKeyTile, a.delta[i0 + r]);
      // dQ_i += dS K_j,  dK_j += dS^T Q_i
      gemm<V>(rows, d, kKeyTile, dp, kKeyTile, 1, a.k + j0 * d, d, a.dq + i0 * d, d, true);
      gemm<V>(kKeyTile, d, rows, dp, 1, kKeyTile, a.q + i0 * d, d, a.dk + j0 * d, d, true);
    }
  }
}

}  // namespace
}  // namespace lmlab::kernels::flash
