// LARICL, the linear approximation of RICL's weights (P9, arXiv 2310.03331; our reading, NOTES P9
// [ours]): linearise the frozen predictor in the weights around w = 1 (plain ICL),
//   f_b(w) ~ f_b(1) + J_b (w - 1),  J_b = d f_b / d w  [B,K] (one backward pass over B prompts),
// which makes RICL's validation loss quadratic; with a ridge penalty lambda ||w - 1||^2 the weights
// come in closed form:
//   (J^T J / B + lambda I) (w - 1) = J^T (y_query - f(1)) / B
// Exact for predictors linear in the weights (linear_attention.h), where it returns the empirical
// optimum. Cost: B prompt passes, one linear solve of size K.
#pragma once

#include <torch/torch.h>

#include "lmlab/icl/ricl.h"

namespace lmlab::icl {

struct LARICLOptions {
  void validate() const;  // UsageError: ridge negative or not finite
  TORCH_ARG(double, ridge) = 1e-6;  // lambda >= 0, finite (the solve uses a pseudo-inverse when 0)
};

// UsageError when the prompts have no example or the solution is not finite; DataError on NaN
// prompts. result.losses holds the linearised validation loss at the solution.
ReweightingResult fit_laricl(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                             const LARICLOptions& options = {});

}  // namespace lmlab::icl
