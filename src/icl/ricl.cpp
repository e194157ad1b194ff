// RICL: per-position example weights fitted by gradient descent (include/lmlab/icl/ricl.h).
#include "lmlab/icl/ricl.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"
#include "icl/query_fit.h"

namespace lmlab::icl {

void RICLOptions::validate() const {
  LMLAB_CHECK(steps_ >= 1, UsageError, "RICL steps must be >= 1; got ", steps_);
  LMLAB_CHECK(batch_ >= 0, UsageError, "RICL batch must be >= 0 (0 = all validation prompts); got ", batch_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "RICL lr must be finite and > 0; got ", lr_);
}

ReweightingResult fit_ricl(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                           const RICLOptions& options) {
  options.validate();
  check_prompts(xs, ys, "RICL");
  const int64_t n = xs.size(1), k = n - 1;
  LMLAB_CHECK(k >= 1, UsageError, "RICL needs prompts with >= 1 example before the query; got N = ", n);
  auto w = torch::ones({k}, xs.options()).requires_grad_();
  const double d = static_cast<double>(xs.size(2));
  const auto fit = detail::fit_query_loss({w}, xs, ys, options.steps(), options.lr(), options.batch(), options.seed(), "RICL",
                                          [&](const torch::Tensor& bx, const torch::Tensor& by) {
                                            const auto wb = w.expand({bx.size(0), k});
                                            return (f(bx, by, wb) - by.select(1, k)).pow(2).mean() / d;
                                          });
  ReweightingResult out;
  out.losses = fit.losses;
  out.prompt_passes = fit.prompt_passes;
  out.weights = w.detach().to(torch::kDouble);
  return out;
}

}  // namespace lmlab::icl
