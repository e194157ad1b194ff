// NTK-Attention (arXiv:2406.14036, "Infinite-long prefix"; NOTES P2) for one
// (batch, head) slice: exact softmax attention over the T input keys plus a prefix term that
// stands for an infinitely long prefix, chosen once per process from the SIMD level. Torch-free;
// the autograd wrapper is lmlab/ntk_attention/ntk_attention.h.
//
// Per query row i, with s_ij = q_i.k_j (q already scaled by 1/sqrt(D)), u_i = phi(q_i) computed
// by the caller, Z [Dp x Dp], kappa [Dp] >= 0:
//   o_i = (sum_j e^{s_ij} v_j + u_i^T Z) / Den_i,   Den_i = sum_j e^{s_ij} + u_i^T kappa.
// The normaliser lives in the log domain: lse_i = log Den_i = logaddexp(lse^flash_i,
// log(u_i^T kappa)), with lse^flash the flash kernel's log-sum-exp over the keys, so scores of any
// finite size neither overflow nor drop the prefix term; u_i^T kappa = 0 (Z = kappa = 0) leaves
// exact softmax attention.
// Forward = the flash forward (lmlab/kernels/flash_attention.h) on the keys, then per row
//   o_i <- e^{lse^flash_i - lse_i} o^flash_i + e^{-lse_i} u_i^T Z.
// Backward (g_i = dL/do_i, delta_i = g_i . o_i, w_i = e^{-lse_i} = 1/Den_i): the flash backward
// with the combined lse and delta gives dQ, dK, dV exactly (p_ij = e^{s_ij - lse_i}); the prefix
// term adds
//   dZ = sum_i u_i (w_i g_i)^T,  dkappa = -sum_i w_i delta_i u_i,
//   du_i = w_i (Z g_i - delta_i kappa)          (the caller chains du through phi).
// No T x T matrix is kept: memory O(T Dp + Dp^2) per slice beyond the flash kernel's tiles.
//
// Layout: the flash contract (lmlab/kernels/flash_attention.h) for q, kt, v, k, vt; u [T x Dp] with
// zeros beyond the real head dim D; z and zt (Z^T) [Dp x Dp], kappa [Dp], zero-padded likewise.
#pragma once

#include <cstdint>

#include "lmlab/kernels/flash_attention.h"
#include "lmlab/kernels/dispatch.h"

namespace lmlab::kernels {

struct NtkForwardArgs {
  FlashForwardArgs flash;  // o and lse receive the combined output and log-normaliser
  const float* u;          // [T x Dp], phi(q)
  const float* z;          // [Dp x Dp]
  const float* kappa;      // [Dp]
};

struct NtkBackwardArgs {
  FlashBackwardArgs flash;  // lse and delta: the combined ones from the NTK forward
  const float* u;           // [T x Dp]
  const float* zt;          // [Dp x Dp], Z^T
  const float* kappa;       // [Dp]
  float* du;                // [T x Dp], written
  float* dz;                // [Dp x Dp], accumulated into
  float* dkappa;            // [Dp], accumulated into
};

// Forward for query rows [row_begin, row_end); writes those rows of o and lse only.
using NtkForward = void (*)(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end);
// Backward for the whole slice (single-threaded; callers split across slices).
using NtkBackward = void (*)(const NtkBackwardArgs& args);

struct NtkAttentionKernels {
  const char* name;  // "scalar", "avx2", "avx512"
  SimdLevel level;
  NtkForward forward;
  NtkBackward backward;
};

// The table for active_simd_level().
const NtkAttentionKernels& ntk_attention_kernels();
// The table for one level (tests, benchmarks); throws std::invalid_argument if the CPU lacks it.
const NtkAttentionKernels& ntk_attention_kernels_for(SimdLevel level);

}  // namespace lmlab::kernels
