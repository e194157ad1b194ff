// RICL, reweighted in-context learning (P9, arXiv 2310.03331, Algorithm 1 as we read it, [ours]
// details marked): the model is frozen; one weight per context position, shared by all prompts,
// multiplies that example's embedding (weighted_predictor.h); the weights minimise the mean
// squared query error on validation prompts
//   L(w) = (1/B) sum_b (f(xs_b, ys_b, w) - y_query_b)^2 / d            w [K], from w = 1
// by Adam on mini-batches of the validation prompts [ours: the paper fine-tunes "with an unbiased
// validation set"; which contexts those prompts carry is NOTES P9's reading: biased contexts, clean
// query targets]. Cost: steps x batch prompt passes (forward and backward).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/icl/weighted_predictor.h"

namespace lmlab::icl {

struct RICLOptions {
  void validate() const;  // UsageError: steps < 1, batch < 0, lr not finite and > 0
  TORCH_ARG(int64_t, steps) = 300;
  TORCH_ARG(double, lr) = 0.02;   // Adam
  TORCH_ARG(int64_t, batch) = 0;  // validation prompts per step; 0 = all
  TORCH_ARG(uint64_t, seed) = 0;  // mini-batch order
};

struct ReweightingResult {
  torch::Tensor weights;       // [K] float64
  std::vector<double> losses;  // RICL: the fitting loss per step; LARICL: the linearised loss at the solution
  int64_t prompt_passes = 0;   // prompts pushed through the model with a backward pass
};

// UsageError when the prompts have no example, or the weights or loss stop being finite (naming
// the step and the lr to lower); DataError on NaN prompts.
ReweightingResult fit_ricl(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                           const RICLOptions& options = {});

}  // namespace lmlab::icl
