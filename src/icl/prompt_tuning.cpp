// Fine-tuning and prefix tuning of the in-context learner on validation prompts
// (include/lmlab/icl/prompt_tuning.h).
#include "lmlab/icl/prompt_tuning.h"

#include <cmath>

#include "icl/query_fit.h"
#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/ntk_attention/adaptation.h"

namespace lmlab::icl {

void PromptTuningOptions::validate() const {
  LMLAB_CHECK(steps_ >= 1, UsageError, "prompt tuning steps must be >= 1; got ", steps_);
  LMLAB_CHECK(batch_ >= 0, UsageError, "prompt tuning batch must be >= 0 (0 = all validation prompts); got ", batch_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "prompt tuning lr must be finite and > 0; got ", lr_);
}

TunedLearner tune_on_prompts(const InContextLearner& trained, const std::string& method, const torch::Tensor& xs,
                             const torch::Tensor& ys, const PromptTuningOptions& options) {
  options.validate();
  check_prompts(xs, ys, "prompt tuning");
  const auto m = ntk_attention::parse_adapt_method(method);
  LMLAB_CHECK(m.kind == ntk_attention::AdaptKind::Full || m.kind == ntk_attention::AdaptKind::Prefix, UsageError,
              "prompt tuning method '", method, "' is not supported; use full or prefix:M");
  auto lo = trained->options();
  if (m.kind == ntk_attention::AdaptKind::Prefix)
    lo.attention(ntk_attention::prefix_attention_factory(ntk_attention::PrefixAttentionOptions(m.size)));
  TunedLearner out;
  out.learner = InContextLearner(lo);
  out.learner->to(trained->parameters().front().scalar_type());
  out.trained_parameters = ntk_attention::start_adaptation(*out.learner, *trained, m, {});
  std::vector<torch::Tensor> params;
  for (const auto& p : out.learner->parameters())
    if (p.requires_grad()) params.push_back(p);
  const int64_t k = xs.size(1) - 1;
  const double d = static_cast<double>(xs.size(2));
  auto learner = out.learner;
  learner->train();
  const auto fit = detail::fit_query_loss(params, xs, ys, options.steps(), options.lr(), options.batch(), options.seed(),
                                          "prompt tuning (" + method + ")",
                                          [&](const torch::Tensor& bx, const torch::Tensor& by) {
                                            return (learner->forward(bx, by).select(1, k) - by.select(1, k)).pow(2).mean() / d;
                                          });
  learner->eval();
  out.losses = fit.losses;
  out.prompt_passes = fit.prompt_passes;
  return out;
}

}  // namespace lmlab::icl
