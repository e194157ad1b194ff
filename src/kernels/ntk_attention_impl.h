// Private header: not part of lmlab's API. The NTK-Attention kernels of
// include/lmlab/kernels/ntk_attention.h (contract and equations there), written once over the
// vector type V of flash_attention_impl.h (whose forward, backward and gemm they reuse) and
// instantiated per ISA in {scalar,avx2,avx512}/ntk_attention_<isa>.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/flash_attention_impl.h"
#include "lmlab/kernels/ntk_attention.h"

namespace lmlab::kernels::ntk {
// Internal linkage: each ISA file compiles its own copy with its own flags, so the linker must not
// merge them (an AVX-512 copy of a helper would otherwise serve the scalar path).
namespace {

// y <- y + a x over n floats (n a multiple of V::W).
template <class V>
void axpy(float* y, const float* x, int64_t n, float a) {
  const typename V::R av = V::set1(a);
  for (int64_t j = 0; j < n; j += V::W) V::store(y + j, V::fmadd(av, V::load(x + j), V::load(y + j)));
}

template <class V>
float dot(const float* x, const float* y, int64_t n) {
  typename V::R acc = V::zero();
  for (int64_t j = 0; j < n; j += V::W) acc = V::fmadd(V::load(x + j), V::load(y + j), acc);
  return V::reduce_add(acc);
}

template <class V>
void forward(const NtkForwardArgs& a, int64_t row_begin, int64_t row_end) {
  const FlashForwardArgs& f = a.flash;
  const int64_t d = f.dp;
  flash::forward<V>(f, row_begin, row_end);  // o^flash, lse^flash for these rows
  std::vector<float> n(static_cast<size_t>(flash::kQueryTile * d));
  for (int64_t i0 = row_begin; i0 < row_end; i0 += flash::kQueryTile) {
    const int64_t rows = std::min(flash::kQueryTile, row_end - i0);
    // n = U Z for the tile's rows
    flash::gemm<V>(rows, d, d, a.u + i0 * d, d, 1, a.z, d, n.data(), d, false);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      const double prefix_mass = dot<V>(a.u + i * d, a.kappa, d);  // u^T kappa >= 0
      const double lse_keys = f.lse[i];
      double lse = lse_keys;
      if (prefix_mass > 0) {  // logaddexp(lse_keys, log prefix_mass)
        const double log_mass = std::log(prefix_mass);
        const double hi = std::max(lse_keys, log_mass);
        lse = hi + std::log(std::exp(lse_keys - hi) + std::exp(log_mass - hi));
      }
      const float keep = static_cast<float>(std::exp(lse_keys - lse));  // share of the keys
      float* o = f.o + i * d;
      flash::scale<V>(o, d, keep);
      axpy<V>(o, n.data() + r * d, d, static_cast<float>(std::exp(-lse)));
      f.lse[i] = static_cast<float>(lse);
    }
  }
}

template <class V>
void backward(const NtkBackwardArgs& a) {
  const FlashBackwardArgs& f = a.flash;
  const int64_t d = f.dp, t = f.t;
  flash::backward<V>(f);  // dQ, dK, dV through p_ij = e^{s_ij - lse_i}
  // gw_i = w_i g_i and c_i = w_i delta_i
  std::vector<float> gw(static_cast<size_t>(t * d)), c(static_cast<size_t>(t));
  for (int64_t i = 0; i < t; ++i) {
    const float w = static_cast<float>(std::exp(-static_cast<double>(f.lse[i])));  // 1 / Den_i
    std::fill(gw.begin() + i * d, gw.begin() + (i + 1) * d, 0.f);
    axpy<V>(gw.data() + i * d, f.dout + i * d, d, w);
    c[static_cast<size_t>(i)] = w * f.delta[i];
  }
  // dZ += U^T GW;  du = GW Z^T - c kappa^T;  dkappa -= U^T c
  flash::gemm<V>(d, d, t, a.u, 1, d, gw.data(), d, a.dz, d, true);
  flash::gemm<V>(t, d, d, gw.data(), d, 1, a.zt, d, a.du, d, false);
  for (int64_t i = 0; i < t; ++i) {
    axpy<V>(a.du + i * d, a.kappa, d, -c[static_cast<size_t>(i)]);
    axpy<V>(a.dkappa, a.u + i * d, d, -c[static_cast<size_t>(i)]);
  }
}

}  // namespace
}  // namespace lmlab::kernels::ntk
