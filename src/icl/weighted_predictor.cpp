// Reweightable in-context predictors (include/lmlab/icl/weighted_predictor.h).
#include "lmlab/icl/weighted_predictor.h"

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"

namespace lmlab::icl {

WeightedPredictor learner_predictor(InContextLearner learner) {
  return [learner](const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& weights) mutable {
    return learner->forward_weighted(xs, ys, weights).select(1, xs.size(1) - 1);
  };
}

torch::Tensor expand_example_weights(const torch::Tensor& weights, int64_t batch, int64_t examples,
                                     torch::ScalarType dtype) {
  LMLAB_CHECK(weights.defined() && ((weights.dim() == 1 && weights.size(0) == examples) ||
                                    (weights.dim() == 2 && weights.size(0) == batch && weights.size(1) == examples)),
              UsageError, "example weights must be [K] or [B,K] with K = ", examples, ", B = ", batch, "; got ",
              weights.defined() ? weights.sizes() : torch::IntArrayRef{});
  return weights.to(dtype).expand({batch, examples});
}

double weighted_query_error(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                            const torch::Tensor& weights) {
  check_prompts(xs, ys, "weighted_query_error");
  LMLAB_CHECK(xs.size(1) >= 2, UsageError, "reweighting needs prompts with >= 1 example before the query; got N = ",
              xs.size(1));
  torch::NoGradGuard no_grad;
  const int64_t n = xs.size(1);
  const auto w = expand_example_weights(weights, xs.size(0), n - 1, xs.scalar_type());
  return (f(xs, ys, w) - ys.select(1, n - 1)).pow(2).mean().item<double>() / static_cast<double>(xs.size(2));
}

}  // namespace lmlab::icl
