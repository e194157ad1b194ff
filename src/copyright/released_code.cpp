// The released code's protected loss, emulated (include/lmlab/copyright/released_code.h).
#include "lmlab/copyright/released_code.h"

#include "lmlab/core/error.h"

namespace lmlab::copyright {
namespace {

// The output head applied to hidden states h [B,T,C] -> [B,T,V] (GPTImpl::forward's last step).
torch::Tensor head_logits(GPT& model, const torch::Tensor& h) {
  const auto params = model->named_parameters();
  const char* name = model->options().tied_head() ? "wte.weight" : "head.weight";
  LMLAB_CHECK(params.contains(name), UsageError, "the released-code emulation needs a GPT whose head is the tied "
              "embedding or a plain linear layer (parameter '", name, "'); use the default linear factory");
  return torch::matmul(h, params[name].t());
}

}  // namespace

ProtectedLoss released_code_loss(GPT& model, const MarkedBatch& batch, const ProtectedLossOptions& options) {
  check_protected_loss_options(options);
  const auto h = model->hidden(model->embed(batch.x));                          // [B,T,C]
  const auto logits = head_logits(model, h);                                   // [B,T,V]
  const auto flags = batch.copyrighted.any(1).to(torch::kInt64);               // [B], 0/1
  const auto cp_logits = head_logits(model, h.detach()).index_select(0, flags);  // rows 0 and 1 (defects 1, 2)
  const auto cp_targets = batch.y.index_select(0, flags);
  const auto all = protected_loss(logits, batch.y, torch::zeros_like(batch.copyrighted), ProtectedLossOptions().gamma(0));
  const auto cp = protected_loss(cp_logits, cp_targets, torch::zeros_like(cp_targets, torch::kBool),
                                 ProtectedLossOptions().gamma(0));
  ProtectedLoss out = all;
  out.ce_cp = cp.ce_all;
  out.copyrighted_tokens = cp.tokens;
  out.has_copyrighted = true;
  out.floored = out.ce_cp < options.ce_floor();
  if (options.gamma() > 0) out.loss = all.loss + options.gamma() / cp.loss.clamp_min(options.ce_floor());
  return out;
}

double released_code_eval_loss(GPT& model, const MarkedTextStream& stream, const ProtectedLossOptions& options,
                               int64_t max_batches) {
  LMLAB_CHECK(max_batches >= 0, UsageError, "max_batches must be >= 0 (0 = all); got ", max_batches);
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  double total = 0;
  int64_t count = 0;
  for (const auto& b : stream.eval_batches(64, model->options().context())) {
    if (max_batches > 0 && count >= max_batches) break;
    total += released_code_loss(model, b, options).loss.item<double>();
    ++count;
  }
  model->train(was_training);
  return total / static_cast<double>(count);
}

}  // namespace lmlab::copyright
