// The reference estimators of in-context regression (Garg et al. 2022, arXiv 2208.01066, sec. 3;
// the baselines of P9, arXiv 2310.03331): each predicts y_i at every point i of a prompt from the
// i examples (x_j, y_j), j < i, before it, exactly as the learner does. Shapes: xs [B,N,d],
// ys [B,N] -> predictions [B,N]; position 0 (no example) predicts 0, the prior mean.
//   least_squares   w = X^+ y, the minimum-norm solution when i < d (pseudo-inverse)
//   ridge           w = (X^T X + lambda I)^-1 X^T y; lambda = noise variance is the Bayes
//                   posterior mean for w ~ N(0, I)
//   nearest         mean y of the `neighbours` nearest x_j (Euclidean; all when i < neighbours)
//   averaging       w = (1/i) sum_j y_j x_j (one gradient step from 0; E[w] = w_true)
// Computed in float64 and returned in the prompts' dtype.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lmlab::icl {

torch::Tensor least_squares_predictions(const torch::Tensor& xs, const torch::Tensor& ys);
torch::Tensor ridge_predictions(const torch::Tensor& xs, const torch::Tensor& ys, double lambda);
torch::Tensor nearest_neighbour_predictions(const torch::Tensor& xs, const torch::Tensor& ys, int64_t neighbours = 3);
torch::Tensor averaging_predictions(const torch::Tensor& xs, const torch::Tensor& ys);

// Squared error per point divided by d (Garg et al.'s normalisation: predicting 0 scores 1 on
// noiseless prompts): (pred - target)^2 / d, [B,N].
torch::Tensor normalised_squared_error(const torch::Tensor& predictions, const torch::Tensor& targets, int64_t dim);

}  // namespace lmlab::icl
