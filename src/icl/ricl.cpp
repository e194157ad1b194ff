// RICL: per-position example weights fitted by gradient descent (include/lmlab/icl/ricl.h).
#include "lmlab/icl/ricl.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/icl/prompts.h"
#include "icl/divergence.h"

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
  const int64_t b = xs.size(0), n = xs.size(1), k = n - 1;
  LMLAB_CHECK(k >= 1, UsageError, "RICL needs prompts with >= 1 example before the query; got N = ", n);
  const int64_t batch = options.batch() == 0 ? b : std::min(options.batch(), b);
  auto w = torch::ones({k}, xs.options()).requires_grad_();
  torch::optim::Adam adam(std::vector<torch::Tensor>{w}, torch::optim::AdamOptions(options.lr()));
  torch::Generator gen = make_generator(options.seed());
  ReweightingResult out;
  for (int64_t step = 0; step < options.steps(); ++step) {
    auto bx = xs, by = ys;
    if (batch < b) {
      const auto idx = torch::randperm(b, gen, torch::TensorOptions().dtype(torch::kLong)).narrow(0, 0, batch);
      bx = xs.index_select(0, idx), by = ys.index_select(0, idx);
    }
    const auto loss = detail::guard_divergence("RICL", step, options.lr(), [&] {
      return (f(bx, by, w.expand({batch, k})) - by.select(1, k)).pow(2).mean() / static_cast<double>(xs.size(2));
    });
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw detail::diverged("RICL", step, "loss " + std::to_string(value), options.lr());
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (!torch::isfinite(w).all().item<bool>()) throw detail::diverged("RICL", step, "non-finite weights", options.lr());
    out.losses.push_back(value);
    out.prompt_passes += batch;
  }
  out.weights = w.detach().to(torch::kDouble);
  return out;
}

}  // namespace lmlab::icl
