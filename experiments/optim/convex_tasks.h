// The convex problems of the optim.* experiments, with a mini-batch loss and the full-data loss:
//   least squares  L(w) = 1/(2n) ||X w - y||^2, X [n, d] Gaussian with column j scaled by
//                  condition^(j / (d - 1)), y = X w* + noise; w [d]; best loss L(w_ls) known
//   fmnist softmax multinomial logistic regression on Fashion-MNIST training images (pixels in
//                  [0, 1], a bias feature appended), w [785, 10]; mean cross-entropy; best unknown (0)
// Config keys: dim, points, noise, condition (least squares); fmnist.points (softmax).
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "lmlab/core/config.h"

namespace lmlab {

struct ConvexTask {
  std::string name;
  torch::Tensor x, y;      // [n, d] float64; y [n] float64 (least squares) or int64 labels (softmax)
  int64_t classes = 0;     // 0: least squares
  double best_loss = 0;    // L at the optimum where known, else 0

  int64_t size() const { return x.size(0); }
  // The starting point: zeros [d] or [d, classes], requiring grad.
  torch::Tensor init() const;
  // The loss on the rows `idx` (undefined: all rows); differentiable in w.
  torch::Tensor loss(const torch::Tensor& w, const torch::Tensor& idx = {}) const;
  // loss(w) - best_loss on all rows, without gradients.
  double excess(const torch::Tensor& w) const;
};

// "least_squares" or "fmnist_softmax" from the config; UsageError for another name or bad sizes.
ConvexTask make_convex_task(const std::string& name, const Config& cfg, uint64_t seed);

}  // namespace lmlab
