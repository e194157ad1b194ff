// What RICL and LARICL (P9, arXiv 2310.03331) reweight: a frozen in-context predictor whose query
// prediction depends on one weight per context example.
//   f(xs [B,N,d], ys [B,N], weights [B,K]) -> yhat_query [B],  K = N - 1 examples
// weights = 1 is plain ICL. The validation prompts RICL and LARICL fit on carry the bias in their
// contexts and a clean query target ys[:, N-1] [ours, NOTES P9: weights fitted on fully clean
// prompts cannot learn which positions are biased].
#pragma once

#include <functional>

#include <torch/torch.h>

#include "lmlab/icl/learner.h"

namespace lmlab::icl {

using WeightedPredictor =
    std::function<torch::Tensor(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& weights)>;

// The learner's query prediction, weights multiplying the example embeddings (learner.h).
WeightedPredictor learner_predictor(InContextLearner learner);

// Mean over the prompts of (f(xs, ys, weights) - ys[:, N-1])^2 / d, weights [K] shared by all
// prompts (or [B,K]); no gradients.
double weighted_query_error(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                            const torch::Tensor& weights);

// weights [K] or [B,K] as [B,K] in the prompts' dtype; UsageError naming the shapes otherwise.
torch::Tensor expand_example_weights(const torch::Tensor& weights, int64_t batch, int64_t examples,
                                     torch::ScalarType dtype);

}  // namespace lmlab::icl
