// The protected language-model loss (include/lmlab/copyright/protected_loss.h).
#include "lmlab/copyright/protected_loss.h"

#include <cmath>
#include <limits>

#include "lmlab/core/error.h"

namespace lmlab::copyright {

void check_protected_loss_options(const ProtectedLossOptions& o) {
  LMLAB_CHECK(std::isfinite(o.gamma()) && o.gamma() >= 0, UsageError,
              "protected loss: gamma must be finite and >= 0 (0 = plain cross-entropy); got ", o.gamma());
  LMLAB_CHECK(std::isfinite(o.ce_floor()) && o.ce_floor() > 0, UsageError,
              "protected loss: ce_floor must be finite and > 0 (it keeps gamma / CE_cp finite); got ", o.ce_floor());
}

ProtectedLoss protected_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                             const torch::Tensor& copyrighted, const ProtectedLossOptions& options) {
  check_protected_loss_options(options);
  LMLAB_CHECK(logits.defined() && logits.dim() == 3 && at::isFloatingType(logits.scalar_type()), UsageError,
              "protected loss: logits must be floating point [B,T,V]",
              logits.defined() ? detail::concat("; got ", logits.sizes(), " ", logits.scalar_type()) : "");
  const auto bt = logits.sizes().slice(0, 2);
  LMLAB_CHECK(targets.defined() && targets.scalar_type() == torch::kInt64 && targets.sizes() == bt, UsageError,
              "protected loss: targets must be int64 [B,T] = ", bt);
  LMLAB_CHECK(copyrighted.defined() && copyrighted.scalar_type() == torch::kBool && copyrighted.sizes() == bt,
              UsageError, "protected loss: the copyrighted mask must be bool [B,T] = ", bt,
              " (true where the target token belongs to a copyrighted document)");
  LMLAB_CHECK(targets.numel() > 0, UsageError, "protected loss: the batch is empty");
  const int64_t v = logits.size(2);
  LMLAB_CHECK(targets.min().item<int64_t>() >= 0 && targets.max().item<int64_t>() < v, UsageError,
              "protected loss: targets must be in [0, ", v, ")");
  const auto per_token = torch::nn::functional::cross_entropy(
      logits.reshape({-1, v}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));  // [B*T]
  const auto mask = copyrighted.reshape({-1});
  ProtectedLoss out;
  out.tokens = targets.numel();
  out.copyrighted_tokens = mask.sum().item<int64_t>();
  const auto ce_all = per_token.mean();
  out.ce_all = ce_all.item<double>();
  out.has_copyrighted = out.copyrighted_tokens > 0;
  out.ce_cp = std::numeric_limits<double>::quiet_NaN();
  out.loss = ce_all;
  if (!out.has_copyrighted) return out;
  const auto ce_cp = per_token.masked_select(mask).mean();
  out.ce_cp = ce_cp.item<double>();
  out.floored = out.ce_cp < options.ce_floor();
  if (options.gamma() > 0) out.loss = ce_all + options.gamma() / ce_cp.clamp_min(options.ce_floor());
  return out;
}

}  // namespace lmlab::copyright
