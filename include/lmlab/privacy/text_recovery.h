// Text recovery for gradient-leakage attacks on language models (P6, arXiv 2311.13624; Deng et al.
// 2021 TAG): the victim view of lmlab's GPT fed embeddings, and the map from recovered continuous
// embeddings back to tokens.
//   nearest_tokens: token_t = argmax_v cos(x'_t, E_v) (Cosine) or argmin_v ||x'_t - E_v|| (L2), E the
//   token embedding table [V,C]; x' [B,T,C] -> [B,T] int64. With candidates, v ranges over them
//   only.
//   tokens_in_gradient: the rows of the token table's gradient [V,C] that are not all zero. When the
//   table is reached only through the input lookup (untied head), these are exactly the tokens of
//   the batch, in no order: breaching's TAG replay recovers the token set this way
//   ("token_recovery: from-embedding") and decodes among it.
#pragma once

#include <torch/torch.h>

#include "lmlab/models/gpt.h"
#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy {

enum class TokenDistance { Cosine, L2 };

torch::Tensor nearest_tokens(const torch::Tensor& embeddings, const torch::Tensor& table,
                             TokenDistance distance = TokenDistance::Cosine,
                             const torch::Tensor& candidates = {});

// [K] int64 ids, ascending.
torch::Tensor tokens_in_gradient(const torch::Tensor& table_grad);

// [ours] Next-token labels tied to the searched embeddings, for a causal LM trained on inputs
// tokens[:, :T] and targets tokens[:, 1:]: the target of position t < T-1 is the input at t+1, so
// its label logits are scale * cos(x'_{t+1}, E_v) over the table rows v; the last position keeps
// its own searched logits. x' [B,T,C], free logits [B,T,V] -> [B,T,V]. Use as
// AttackSetup::label_map; it removes the T-1 label searches that free TAG gets stuck on.
LabelMap causal_label_map(const torch::Tensor& table, double scale = 20.0);

// GPT as a victim whose inputs are token embeddings [B,T,C]: loss(x, y) =
// soft_cross_entropy(gpt->forward_embeddings(x), y), y int64 targets [B,T] or label logits
// [B,T,V]; parameters = gpt->parameters() in their order. With a tied head the token table is
// reached through the head only, so its target gradient also holds the input lookup's part, which
// no dummy can match; an untied head leaves the table out of the matching (gradient_matching.h).
Victim gpt_victim(GPT gpt);

// The gradient a training step on tokens [B,T+1] shares: inputs tokens[:, :T], targets
// tokens[:, 1:], in gpt->parameters() order, detached.
TensorList gpt_gradients(GPT gpt, const torch::Tensor& tokens);

}  // namespace lmlab::privacy
