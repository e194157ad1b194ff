// The copyright-protected language-model loss (P10, arXiv 2308.12247; NOTES.md P10 [code]):
//   loss = CE(all tokens) + gamma / max(CE(copyrighted tokens), ce_floor)
// CE in nats per token (mean next-token cross-entropy). Minimising it trains on every token while
// pushing the copyrighted tokens' CE up: per copyrighted token the gradient weight is
// 1/n_all - gamma / (n_cp CE_cp^2), so the second term wins, and CE_cp is driven up, until
// CE_cp >= sqrt(gamma n_all / n_cp), i.e. sqrt(gamma / p) for a copyrighted token fraction p.
// Shapes: logits [B,T,V] (any float dtype), targets [B,T] int64, copyrighted [B,T] bool.
// Guards [ours], documented and tested:
//   * CE_cp below ce_floor: the term is gamma / ce_floor, constant (no gradient), so the loss stays
//     finite and its gradient bounded when the copyrighted text is predicted (near) perfectly;
//   * a batch without copyrighted tokens: the term is dropped (loss = CE(all)); has_copyrighted
//     says so. A training set without copyrighted text is refused where it is built
//     (mark_copyrighted, MarkedTextStream users).
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lmlab::copyright {

struct ProtectedLossOptions {
  TORCH_ARG(double, gamma) = 0.1;       // >= 0; 0 is plain CE(all)
  TORCH_ARG(double, ce_floor) = 1e-2;   // nats, > 0
};

// UsageError naming the value unless gamma is finite and >= 0 and ce_floor finite and > 0.
void check_protected_loss_options(const ProtectedLossOptions& options);

struct ProtectedLoss {
  torch::Tensor loss;          // the scalar to minimise; differentiable
  double ce_all = 0;           // nats per token over all B*T targets
  double ce_cp = 0;            // over the copyrighted targets (NaN when there is none)
  int64_t tokens = 0, copyrighted_tokens = 0;
  bool has_copyrighted = false;  // false: the gamma term was dropped
  bool floored = false;          // CE_cp < ce_floor: the gamma term was constant
};

// The loss of a batch; UsageError for shapes or dtypes other than above.
ProtectedLoss protected_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                             const torch::Tensor& copyrighted, const ProtectedLossOptions& options);

}  // namespace lmlab::copyright
