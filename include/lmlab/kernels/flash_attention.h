// Exact softmax attention in tiles with an online softmax ("flash" attention: Dao et al. 2022,
// arXiv:2205.14135, Algorithm 1; backward as FlashAttention-2, arXiv:2307.08691, Algorithm 2), for
// one (batch, head) slice at a time, chosen once per process from the SIMD level. Torch-free; the
// autograd wrapper is lmlab/models/flash_attention.h.
//
// Forward, for query rows i of Q [T x Dp] (already multiplied by the softmax scale 1/sqrt(D)) and
// keys j < S of K, V [Sp x Dp]:
//   o_i = sum_j p_ij v_j,  p_ij = exp(q_i.k_j - lse_i),  lse_i = log sum_j exp(q_i.k_j),
// over j <= i + (S - T) when causal (queries aligned to the last keys). Keys are visited in tiles of
// kFlashKeyTile with a running row maximum m and sum l: l <- l e^(m - m') + sum_j e^(s_ij - m'),
// o <- o e^(m - m') + sum_j e^(s_ij - m') v_j, so no T x S matrix exists; memory is O((T + S) Dp).
// Backward recomputes P per tile from lse and, with delta_i = dO_i . O_i:
//   dV += P^T dO,  dS = P o (dO V^T - delta),  dQ += dS K,  dK += dS^T Q   (Q scaled as given).
//
// Layout contract (the caller pads; lmlab/models/flash_attention.h does): Dp is a multiple of
// kFlashHeadDimAlign and the real head dim D <= Dp has zeros beyond D in Q, K and V; Sp is S
// rounded up to a multiple of kFlashKeyTile, and K, V rows j >= S hold zeros. Kt is K transposed
// tile by tile: [Sp / kFlashKeyTile] x [Dp x kFlashKeyTile], entry (c, j) at
// (j / 64) * Dp * 64 + c * 64 + j % 64, so a tile's columns are contiguous (a plain [Dp x Sp]
// transpose puts rows Sp floats apart, which for Sp a multiple of 1024 maps them all to one L1
// set). Vt likewise. Scores must be finite. Results may differ from the scalar twin in the
// last bits (vector exp, summation order); they do not depend on how rows are split across calls.
#pragma once

#include <cstdint>

#include "lmlab/kernels/dispatch.h"

namespace lmlab::kernels {

constexpr int64_t kFlashKeyTile = 64;
// Query rows per tile; callers splitting rows should cut at multiples. Measured at T = 4096, D = 64:
// 32, 64, 128 rows took about 180, 160, 125 ms per forward (each K, V tile is read once per query
// tile); 256 made causal attention slower (more work on the diagonal).
constexpr int64_t kFlashQueryTile = 128;
constexpr int64_t kFlashHeadDimAlign = 16;

struct FlashForwardArgs {
  const float* q;   // [T x Dp], scaled
  const float* kt;  // [Sp/64][Dp x 64], tiles of K^T
  const float* v;   // [Sp x Dp]
  float* o;         // [T x Dp], written
  float* lse;       // [T], written
  int64_t t, s, sp, dp;
  bool causal;
};

struct FlashBackwardArgs {
  const float* q;      // [T x Dp], scaled as in the forward
  const float* k;      // [Sp x Dp]
  const float* kt;     // [Sp/64][Dp x 64]
  const float* vt;     // [Sp/64][Dp x 64]
  const float* dout;   // [T x Dp], dL/dO
  const float* lse;    // [T], from the forward
  const float* delta;  // [T], delta_i = dO_i . O_i
  float* dq;           // [T x Dp], dL/d(scaled Q), accumulated into (start from zeros)
  float* dk;           // [Sp x Dp], accumulated into
  float* dv;           // [Sp x Dp], accumulated into
  int64_t t, s, sp, dp;
  bool causal;
};

// Forward for query rows [row_begin, row_end); writes those rows of o and lse only.
using FlashForward = void (*)(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end);
// Backward for the whole slice (single-threaded; callers split across slices).
using FlashBackward = void (*)(const FlashBackwardArgs& args);
// Whether x[0 .. n) holds no NaN or Inf, in one pass: the sum of x * 0 is 0 exactly when every x
// is finite (Inf * 0 and NaN * 0 are NaN, which every later sum keeps). The inputs' check.
using AllFinite = bool (*)(const float* x, int64_t n);

struct FlashAttentionKernels {
  const char* name;  // "scalar", "avx2", "avx512"
  SimdLevel level;
  FlashForward flash_forward;
  FlashBackward flash_backward;
  AllFinite all_finite;
};

// The table for active_simd_level().
const FlashAttentionKernels& flash_attention_kernels();
// The table for one level (tests, benchmarks); throws std::invalid_argument if the CPU lacks it.
const FlashAttentionKernels& flash_attention_kernels_for(SimdLevel level);

}  // namespace lmlab::kernels
