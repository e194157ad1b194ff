// tau_CE (include/lmlab/copyright/marked_cross_entropy.h).
#include "lmlab/copyright/marked_cross_entropy.h"

#include <cmath>
#include <limits>

#include "lmlab/core/error.h"

namespace lmlab::copyright {

double MarkedCrossEntropy::perplexity() const { return std::exp(ce_all); }

MarkedCrossEntropy marked_cross_entropy(GPT& model, const MarkedTextStream& stream, int64_t max_batches) {
  LMLAB_CHECK(max_batches >= 0, UsageError, "max_batches must be >= 0 (0 = all); got ", max_batches);
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  double cp = 0, rest = 0;
  MarkedCrossEntropy out;
  int64_t count = 0;
  for (const auto& b : stream.eval_batches(64, model->options().context())) {
    if (max_batches > 0 && count++ >= max_batches) break;
    const auto logits = model->forward(b.x).to(torch::kDouble);
    const auto nll = torch::nn::functional::cross_entropy(
        logits.reshape({-1, logits.size(2)}), b.y.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    const auto mask = b.copyrighted.reshape({-1});
    cp += nll.masked_select(mask).sum().item<double>();
    rest += nll.masked_select(~mask).sum().item<double>();
    out.copyrighted_tokens += mask.sum().item<int64_t>();
    out.other_tokens += mask.numel() - mask.sum().item<int64_t>();
  }
  model->train(was_training);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const auto mean = [&](double total, int64_t n) { return n > 0 ? total / static_cast<double>(n) : nan; };
  out.ce_cp = mean(cp, out.copyrighted_tokens);
  out.ce_rest = mean(rest, out.other_tokens);
  out.ce_all = mean(cp + rest, out.copyrighted_tokens + out.other_tokens);
  return out;
}

}  // namespace lmlab::copyright
