// The linear-attention in-context learner: the one-layer linear self-attention reading of ICL
// (one gradient step from 0 on the context's squared loss; von Oswald et al. 2023, arXiv
// 2212.07677), with P9's per-example weights (arXiv 2310.03331):
//   yhat_q = x_q^T (1/K) sum_i w_i y_i x_i        xs [B,N,d], ys [B,N], weights [B,K], K = N-1
// Its prediction is linear in the weights, so LARICL's linearisation is exact for it, and its
// optimal weights are known in closed form (NOTES P9, [ours] derivation in docs/icl.md): for
// x ~ N(0, I_d), w ~ N(0, I_d), y_i = <w, x_i> + noise of variance s_i^2, the expected query error
// is d [sum_i u_i^2 D_ii + (sum_i u_i - 1)^2], u_i = w_i / K, D_ii = d + 1 + s_i^2, minimised by
//   w_i = (K / D_ii) / (1 + sum_j 1 / D_jj)          (clean prompts: w_i = K / (K + d + 1)).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/icl/weighted_predictor.h"

namespace lmlab::icl {

// yhat_q [B] of the formula above.
torch::Tensor linear_attention_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& weights);
WeightedPredictor linear_attention_predictor();

// The optimal weights [K] (float64) for dimension d and per-position noise variances [K] >= 0.
torch::Tensor optimal_linear_attention_weights(int64_t dim, const torch::Tensor& noise_variance);

}  // namespace lmlab::icl
