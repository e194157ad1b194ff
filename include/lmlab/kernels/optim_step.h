// Fused float32 passes of the optimizer plug-ins (P4, P8; lmlab/optim/momentum_step.h uses them),
// chosen once per process from the SIMD level; torch-free. Each call covers one contiguous slice;
// callers split a tensor into slices and add the returned dot products in a fixed order.
//
// momentum_update, the buffer half of torch.optim.SGD (torch 1.13) with momentum mu, dampening
// tau and weight decay lambda, in float32 with the roundings of LibTorch's step (fma where it
// uses one):
//   d = g + lambda p,   b <- d on the first step, else b <- (mu b) + (1 - tau) d,
//   a <- theta a + (1 - theta) b   (optional: delta-bar-delta's average of the direction),
// and the inner products the plug-ins need, over the slice: <g, g>, <g, b_before>, <g, a_before>,
// <g, b>, <b, b>. step_along then takes the parameter half: p <- p - lr (x + c y).
//
// adamw_update, one step of torch::optim::AdamW (torch 1.13, no amsgrad) in one pass instead of
// LibTorch's seven, in float32:
//   p <- p (1 - lr lambda),   m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g g,
//   p <- p + (-lr / c1) m / (sqrt(v) / sqrt(c2) + eps),   c1 = 1 - beta1^t, c2 = 1 - beta2^t,
// with the three multiply-adds fused, written as fma on every level (a compiler may contract
// them or not in LibTorch's own build, so results agree with LibTorch's to rounding, not bits):
//   m = fma(g, 1 - beta1, m beta1),  v = fma((1 - beta2) g, g, v beta2),  p = fma(p, 1 - lr lambda, s).
//
// gaussian_fill writes draws of N(0, 1): entry i is a pure function of (key, offset + i), so a
// vector is the same however it is sliced or threaded. Box-Muller on 32-bit uniforms from a keyed
// two-round integer hash (lowbias32, 2 multiplies a round; its two round keys from the key by the
// splitmix64 finaliser) of the draw's counter: radius
// sqrt(-2 ln u1) with u1 in [2^-32, 1] (draws reach 6.66 standard deviations), angle 2 pi u2 built
// from a quadrant (2 bits) and a polynomial sine and cosine on [-pi/4, pi/4] (22 bits). The SIMD
// and scalar twins give the same draws up to float rounding of ln, sin and cos.
#pragma once

#include <cstdint>

#include "lmlab/kernels/dispatch.h"

namespace lmlab::kernels {

struct MomentumUpdateArgs {
  const float* grad;
  const float* param;  // read only when weight_decay != 0
  float* buffer;       // written; read unless first
  float* average;      // optional (nullptr): delta-bar-delta's average, updated with theta
  int64_t n;
  // In float32 as LibTorch rounds them: float(mu), float(1 - tau), float(lambda), float(theta), float(1 - theta).
  float momentum, one_minus_dampening, weight_decay, theta, one_minus_theta;
  bool first;  // the buffer's first step: b = d
};

struct AdamWUpdateArgs {
  float* param;
  const float* grad;
  float* exp_avg;     // m
  float* exp_avg_sq;  // v
  int64_t n;
  // In float32 as LibTorch rounds them: float(1 - lr lambda), float(beta1), float(1 - beta1),
  // float(beta2), float(1 - beta2), float(sqrt(c2)), float(eps), float(-lr / c1).
  float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, sqrt_bias_correction2, eps, neg_step_size;
};

struct MomentumDots {
  double g_g = 0, g_buffer_before = 0, g_average_before = 0, g_buffer = 0, buffer_buffer = 0;
  MomentumDots& operator+=(const MomentumDots& o);
};

struct GaussianDots {
  double v_x = 0, v_v = 0;  // <v, x> (0 without x) and <v, v> over the slice
  GaussianDots& operator+=(const GaussianDots& o) {
    v_x += o.v_x, v_v += o.v_v;
    return *this;
  }
};

struct OptimKernels {
  const char* name;
  SimdLevel level;
  MomentumDots (*momentum_update)(const MomentumUpdateArgs& args);
  // p[i] -= lr * (x[i] + c * y[i]); y may be nullptr (then p[i] -= lr * x[i], LibTorch's rounding).
  void (*step_along)(float* p, const float* x, const float* y, float lr, float c, int64_t n);
  void (*adamw_update)(const AdamWUpdateArgs& args);
  // out[i] = draw number offset + i of the stream `key`; returns <out, x> (x may be nullptr) and
  // <out, out>. offset must be even.
  GaussianDots (*gaussian_fill)(float* out, const float* x, int64_t n, uint64_t offset, uint64_t key);
};

// The table of `level` (AVX-512 CPUs use the AVX2 table: the passes are memory-bound);
// std::invalid_argument when the CPU lacks the level.
const OptimKernels& optim_kernels_for(SimdLevel level);
// The table of active_simd_level().
const OptimKernels& optim_kernels();

}  // namespace lmlab::kernels
