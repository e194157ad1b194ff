// Text recovery (include/lmlab/privacy/text_recovery.h).
#include "lmlab/privacy/text_recovery.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::privacy {

torch::Tensor nearest_tokens(const torch::Tensor& embeddings, const torch::Tensor& table, TokenDistance distance,
                             const torch::Tensor& candidates) {
  LMLAB_CHECK(!candidates.defined() ||
                  (candidates.dim() == 1 && candidates.numel() >= 1 && !candidates.is_floating_point()),
              UsageError, "candidates must be a non-empty [K] tensor of token ids");
  LMLAB_CHECK(embeddings.defined() && table.defined() && embeddings.dim() == 3 && table.dim() == 2 &&
                  embeddings.size(2) == table.size(1) && table.size(0) >= 1,
              UsageError, "nearest_tokens needs embeddings [B,T,C] and a table [V,C] of one width C; got ",
              embeddings.defined() ? embeddings.sizes() : c10::IntArrayRef{}, " and ",
              table.defined() ? table.sizes() : c10::IntArrayRef{});
  torch::NoGradGuard no_grad;
  if (candidates.defined()) {
    LMLAB_CHECK(candidates.min().item<int64_t>() >= 0 && candidates.max().item<int64_t>() < table.size(0), UsageError,
                "candidate token ids must lie in [0, ", table.size(0), ")");
    const auto ids = candidates.to(torch::kLong);
    return ids.index_select(0, nearest_tokens(embeddings, table.index_select(0, ids), distance).flatten())
        .view({embeddings.size(0), embeddings.size(1)});
  }
  const auto x = embeddings.reshape({-1, embeddings.size(2)}).to(table.dtype());
  torch::Tensor pick;
  if (distance == TokenDistance::Cosine)
    pick = torch::mm(torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(1)),
                     torch::nn::functional::normalize(table, torch::nn::functional::NormalizeFuncOptions().dim(1)).t())
               .argmax(1);
  else
    pick = torch::cdist(x, table).argmin(1);
  return pick.view({embeddings.size(0), embeddings.size(1)});
}

torch::Tensor tokens_in_gradient(const torch::Tensor& table_grad) {
  LMLAB_CHECK(table_grad.defined() && table_grad.dim() == 2, UsageError, "tokens_in_gradient needs the table's gradient [V,C]");
  const auto ids = table_grad.ne(0).any(1).nonzero().flatten();
  LMLAB_CHECK(ids.numel() >= 1, DataError, "the token table's gradient is all zero: no token to recover");
  return ids;
}

LabelMap causal_label_map(const torch::Tensor& table, double scale) {
  LMLAB_CHECK(table.defined() && table.dim() == 2, UsageError, "causal_label_map needs the token table [V,C]");
  LMLAB_CHECK(std::isfinite(scale) && scale > 0, UsageError, "causal_label_map scale must be finite and > 0; got ", scale);
  namespace F = torch::nn::functional;
  const auto unit = F::normalize(table.detach(), F::NormalizeFuncOptions().dim(1));
  return [unit, scale](const torch::Tensor& x, const torch::Tensor& free) {
    using torch::indexing::Slice;
    const auto next = F::normalize(x.index({Slice(), Slice(1, torch::indexing::None)}), F::NormalizeFuncOptions().dim(2));
    const auto tied = scale * torch::matmul(next, unit.t().to(x.dtype()));
    return torch::cat({tied, free.index({Slice(), Slice(-1, torch::indexing::None)})}, 1);
  };
}

Victim gpt_victim(GPT gpt) {
  return {gpt->parameters(), [gpt](const torch::Tensor& x, const torch::Tensor& y) mutable {
            return soft_cross_entropy(gpt->forward_embeddings(x), y);
          }};
}

TensorList gpt_gradients(GPT gpt, const torch::Tensor& tokens) {
  LMLAB_CHECK(tokens.defined() && tokens.dim() == 2 && tokens.size(1) >= 2, UsageError,
              "gpt_gradients needs tokens [B,T+1] with T >= 1; got ",
              tokens.defined() ? tokens.sizes() : c10::IntArrayRef{});
  using torch::indexing::Slice;
  const auto inputs = tokens.index({Slice(), Slice(0, -1)}), targets = tokens.index({Slice(), Slice(1, torch::indexing::None)});
  const auto loss = soft_cross_entropy(gpt->forward(inputs), targets);
  auto grads = torch::autograd::grad({loss}, gpt->parameters(), {}, false, false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = torch::zeros_like(gpt->parameters()[i]);
  return grads;
}

}  // namespace lmlab::privacy
