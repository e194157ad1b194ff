// The linear-attention in-context learner and its optimal weights (include/lmlab/icl/linear_attention.h).
#include "lmlab/icl/linear_attention.h"

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"

namespace lmlab::icl {

torch::Tensor linear_attention_predictions(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& weights) {
  check_prompts(xs, ys, "linear attention");
  const int64_t n = xs.size(1), k = n - 1;
  LMLAB_CHECK(k >= 1, UsageError, "linear attention needs >= 1 example before the query; got N = ", n);
  const auto w = expand_example_weights(weights, xs.size(0), k, xs.scalar_type());
  const auto context = xs.narrow(1, 0, k);                                         // [B,K,d]
  const auto wy = (w * ys.narrow(1, 0, k)).unsqueeze(2);                           // [B,K,1]
  const auto estimate = (wy * context).sum(1) / static_cast<double>(k);            // [B,d]
  return (estimate * xs.select(1, k)).sum(1);
}

WeightedPredictor linear_attention_predictor() { return linear_attention_predictions; }

torch::Tensor optimal_linear_attention_weights(int64_t dim, const torch::Tensor& noise_variance) {
  LMLAB_CHECK(dim >= 1, UsageError, "optimal_linear_attention_weights: d must be >= 1; got ", dim);
  LMLAB_CHECK(noise_variance.defined() && noise_variance.dim() == 1 && noise_variance.size(0) >= 1, UsageError,
              "optimal_linear_attention_weights: noise variances must be [K], K >= 1");
  const auto s2 = noise_variance.to(torch::kDouble);
  LMLAB_CHECK(torch::isfinite(s2).all().item<bool>() && (s2 >= 0).all().item<bool>(), UsageError,
              "optimal_linear_attention_weights: noise variances must be finite and >= 0");
  const auto inv_d = 1.0 / (s2 + static_cast<double>(dim + 1));
  return static_cast<double>(s2.size(0)) * inv_d / (1.0 + inv_d.sum());
}

}  // namespace lmlab::icl
