// Private header: not part of lmlab's API. The fused optimizer passes of
// include/lmlab/kernels/optim_step.h (contract and equations there) written once over a vector type
// V (vec_<isa>.h: W, R, zero, set1, load, store, fmadd, mul, reduce_add) and instantiated in
// {scalar,avx2}/optim_<isa>.cpp; and the scalar pieces of the Gaussian draw both twins share.
#pragma once

#include <cmath>
#include <cstdint>

#include "lmlab/kernels/optim_step.h"

namespace lmlab::kernels::optim {
// Internal linkage: each ISA file compiles its own copy with its own flags.
namespace {

// a * b + c with one rounding on every level (LibTorch's vectorised add with alpha is an fma).
template <class V>
inline typename V::R fma(typename V::R a, typename V::R b, typename V::R c) {
  if constexpr (V::W == 1) return std::fma(a, b, c);
  else return V::fmadd(a, b, c);
}

// The vector loop over [0, n - n % W) and a one-lane loop over the rest, both through `body`,
// which takes a lane type L (V or the scalar twin) and an index.
template <class V, class Scalar, class Body>
inline void for_lanes(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + V::W <= n; i += V::W) body(V{}, i);
  for (; i < n; ++i) body(Scalar{}, i);
}

template <class V, class Scalar, bool kFirst, bool kDecay, bool kAverage>
MomentumDots momentum_update_impl(const MomentumUpdateArgs& a) {
  typename V::R gg = V::zero(), gb0 = V::zero(), ga0 = V::zero(), gb = V::zero(), bb = V::zero();
  float sgg = 0, sgb0 = 0, sga0 = 0, sgb = 0, sbb = 0;
  auto body = [&](auto lanes, int64_t i) {
    using L = decltype(lanes);
    const auto g = L::load(a.grad + i);
    const auto d = kDecay ? fma<L>(L::load(a.param + i), L::set1(a.weight_decay), g) : g;
    auto b = d;
    auto b0 = L::zero();
    if constexpr (!kFirst) {
      b0 = L::load(a.buffer + i);
      b = fma<L>(d, L::set1(a.one_minus_dampening), L::mul(b0, L::set1(a.momentum)));
    }
    L::store(a.buffer + i, b);
    auto a0 = L::zero();
    if constexpr (kAverage) {
      a0 = L::load(a.average + i);
      L::store(a.average + i, fma<L>(b, L::set1(a.one_minus_theta), L::mul(a0, L::set1(a.theta))));
    }
    if constexpr (L::W == V::W && V::W > 1) {
      gg = fma<L>(g, g, gg), gb0 = fma<L>(g, b0, gb0), ga0 = fma<L>(g, a0, ga0);
      gb = fma<L>(g, b, gb), bb = fma<L>(b, b, bb);
    } else {
      sgg += g * g, sgb0 += g * b0, sga0 += g * a0, sgb += g * b, sbb += b * b;
    }
  };
  for_lanes<V, Scalar>(a.n, body);
  MomentumDots out;
  out.g_g = double(V::reduce_add(gg)) + sgg;
  out.g_buffer_before = double(V::reduce_add(gb0)) + sgb0;
  out.g_average_before = double(V::reduce_add(ga0)) + sga0;
  out.g_buffer = double(V::reduce_add(gb)) + sgb;
  out.buffer_buffer = double(V::reduce_add(bb)) + sbb;
  return out;
}

template <class V, class Scalar, bool kFirst, bool kDecay>
MomentumDots momentum_update_average(const MomentumUpdateArgs& a) {
  return a.average ? momentum_update_impl<V, Scalar, kFirst, kDecay, true>(a)
                   : momentum_update_impl<V, Scalar, kFirst, kDecay, false>(a);
}

template <class V, class Scalar>
MomentumDots momentum_update(const MomentumUpdateArgs& a) {
  const bool decay = a.weight_decay != 0;
  if (a.first)
    return decay ? momentum_update_average<V, Scalar, true, true>(a) : momentum_update_average<V, Scalar, true, false>(a);
  return decay ? momentum_update_average<V, Scalar, false, true>(a) : momentum_update_average<V, Scalar, false, false>(a);
}

template <class V, class Scalar>
void step_along(float* p, const float* x, const float* y, float lr, float c, int64_t n) {
  if (y == nullptr) {
    for_lanes<V, Scalar>(n, [&](auto lanes, int64_t i) {
      using L = decltype(lanes);
      L::store(p + i, fma<L>(L::load(x + i), L::set1(-lr), L::load(p + i)));
    });
    return;
  }
  for_lanes<V, Scalar>(n, [&](auto lanes, int64_t i) {
    using L = decltype(lanes);
    const auto s = fma<L>(L::load(y + i), L::set1(c), L::load(x + i));
    L::store(p + i, fma<L>(s, L::set1(-lr), L::load(p + i)));
  });
}

template <class V, class Scalar>
void adamw_update(const AdamWUpdateArgs& a) {
  for_lanes<V, Scalar>(a.n, [&](auto lanes, int64_t i) {
    using L = decltype(lanes);
    const auto g = L::load(a.grad + i);
    const auto m = fma<L>(g, L::set1(a.one_minus_beta1), L::mul(L::load(a.exp_avg + i), L::set1(a.beta1)));
    const auto v = fma<L>(L::mul(L::set1(a.one_minus_beta2), g), g, L::mul(L::load(a.exp_avg_sq + i), L::set1(a.beta2)));
    const auto denom = L::add(L::div(L::sqrt(v), L::set1(a.sqrt_bias_correction2)), L::set1(a.eps));
    L::store(a.exp_avg + i, m);
    L::store(a.exp_avg_sq + i, v);
    L::store(a.param + i, fma<L>(L::load(a.param + i), L::set1(a.decay), L::div(L::mul(L::set1(a.neg_step_size), m), denom)));
  });
}

// ---- the Gaussian draw's scalar pieces ------------------------------------------------------

// lowbias32 (an integer hash with strong avalanche: xor-shift, multiply, twice).
inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The uniform bits of counter c under the key (k0, k1).
inline uint32_t keyed_bits(uint32_t c, uint32_t k0, uint32_t k1) { return lowbias32(lowbias32(c ^ k0) ^ k1); }

// A stream's key halves (k0, k1): the user's key through the splitmix64 finaliser, so that keys
// differing in a few bits give unrelated streams.
inline void stream_keys(uint64_t key, uint32_t* k0, uint32_t* k1) {
  uint64_t z = key + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  *k0 = uint32_t(z), *k1 = uint32_t(z >> 32);
}

constexpr float kTwoToMinus31 = 4.656612873077393e-10f, kTwoToMinus22 = 2.384185791015625e-07f;
constexpr double kHalfPi = 1.5707963267948966;

// Draws 2j and 2j + 1 of the stream (k0, k1): counter 2j gives u1 (radius), 2j + 1 the quadrant
// (top 2 bits) and the position in it (the next 22 bits). One lane of the SIMD twin, with libm.
inline void gaussian_pair(uint64_t j, uint32_t k0, uint32_t k1, float* z0, float* z1) {
  const uint32_t r1 = keyed_bits(uint32_t(2 * j), k0, k1), r2 = keyed_bits(uint32_t(2 * j + 1), k0, k1);
  const float u1 = (float(int32_t(r1 >> 1)) + 0.5f) * kTwoToMinus31;
  const float f = (float(int32_t((r2 >> 8) & 0x3fffff)) + 0.5f) * kTwoToMinus22;
  const double phi = ((r2 >> 30) + double(f)) * kHalfPi;
  const float r = std::sqrt(-2.f * std::log(u1));
  *z0 = r * float(std::cos(phi));
  *z1 = r * float(std::sin(phi));
}

// out[k] = z[k] for k < count, with their inner products added to `dots` (x may be nullptr).
inline void store_draws(float* out, const float* x, const float* z, int64_t count, GaussianDots& dots) {
  for (int64_t k = 0; k < count; ++k) {
    out[k] = z[k];
    dots.v_v += double(z[k]) * z[k];
    if (x != nullptr) dots.v_x += double(z[k]) * x[k];
  }
}

}  // namespace
}  // namespace lmlab::kernels::optim
