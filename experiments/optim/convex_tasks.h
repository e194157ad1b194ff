// The convex problems of the optim.* experiments, with a mini-batch loss and the full-data loss:
//   least squares  L(w) = 1/(2n) ||X w - y||^2, X [n, d] Gaussian with column j scaled by
//                  condition^(j / (d - 1)), y = X w* + noise; w [d]; best loss L(w_ls) known
//   fmnist softmax multinomial logistic regression on Fashion-MNIST training images (pixels in
//                  [0, 1], a bias feature appended), w [785, 10]; mean cross-entropy; best unknown (0)
// Config keys: dim, points, noise, condition (least squares); fmnist.points (softmax).
#pragma once

#include <cstdint>
#include <functional>
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

// UsageError unless `name` is least_squares or fmnist_softmax and its config keys are in range
// (dim >= 2, points >= dim, condition >= 1, noise >= 0; fmnist.points >= 1); checked before any work.
void check_convex_task(const std::string& name, const Config& cfg);
// The task `name` from the config (check_convex_task first; fmnist.points also against the data).
ConvexTask make_convex_task(const std::string& name, const Config& cfg, uint64_t seed);

// Mini-batch training on `task` from w: each step zeroes `optimizer`'s gradients, draws `batch`
// rows with replacement from `g` (batch 0: all rows, no draw), computes the loss, calls backward
// and `step`; every `every` steps it records task.excess(w) and calls `on_eval`. Returns the excess
// curve, steps / every + 1 points from step 0. A loss that overflows, or an excess above 1000 times
// the start (or NaN), is divergence: the rest of the curve is infinite.
FloatList excess_curve(const ConvexTask& task, const torch::Tensor& w, torch::optim::Optimizer& optimizer,
                       int64_t steps, int64_t batch, int64_t every, torch::Generator& g,
                       const std::function<void()>& step, const std::function<void()>& on_eval = {});

}  // namespace lmlab
