// Exact softmax attention (Vaswani et al. 2017, arXiv:1706.03762, eq. 1), two ways:
//   out = softmax(q k^T / sqrt(D) + M) v,   q [B,H,T,D], k and v [B,H,S,D] -> [B,H,T,D],
// M = -inf above the diagonal when causal, aligned to the last key (query i of T sees keys
// 0 .. S-T+i; T <= S).
//
// composed_attention: LibTorch ops; materialises the [B,H,T,S] map; any dtype and device; twice
//   differentiable. The reference for everything else.
// flash_attention: lmlab's tiled online-softmax kernel (lmlab/kernels/flash_attention.h) with a fused
//   backward; O((T+S) D) memory; float32 CPU tensors with finite entries. Saved for backward: q, k,
//   v, the output and the row log-sum-exp. When the backward itself is differentiated (create_graph,
//   as in gradient-leakage attacks) it computes the gradients with composed_attention_backward's
//   LibTorch ops instead, so second derivatives exist.
// exact_attention: flash_attention for float32 CPU inputs, composed_attention otherwise.
// The two agree to float32 rounding (tests/models/flash_attention_test.cpp).
#pragma once

#include <torch/torch.h>

namespace lmlab {

// UsageError unless q is [B,H,T,D] and k, v are [B,H,S,D] with q's B, H, D (and T <= S if causal).
void check_attention_shapes(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            bool causal);

torch::Tensor composed_attention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, bool causal);

// The attention map softmax(q k^T / sqrt(D) + M) [B,H,T,S], composed (rows sum to 1).
torch::Tensor attention_probabilities(const torch::Tensor& q, const torch::Tensor& k, bool causal);

// dL/dq, dL/dk, dL/dv of composed_attention for dL/dout = grad, in closed form with LibTorch ops:
// P as above, dv = P^T g, dS = P o (g v^T - rowsum(g o out)), dq = dS k / sqrt(D),
// dk = dS^T q / sqrt(D). Differentiable again.
std::vector<torch::Tensor> composed_attention_backward(const torch::Tensor& q,
                                                       const torch::Tensor& k,
                                                       const torch::Tensor& v,
                                                       const torch::Tensor& grad, bool causal);

torch::Tensor flash_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, bool causal);

torch::Tensor exact_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, bool causal);

}  // namespace lmlab
