// The adaptation methods P2 (arXiv 2406.14036) compares, as one value a model's options take:
//   Full    all parameters trained, no adapter ("full")
//   Head    no adapter: the backbone frozen, only a new task head trained ("head"; the baseline an
//           adapter must beat, not a parameter-efficient method)
//   Lora    LoRA of rank R on the attention projections q, k, v, o ("lora:R"; lora.h)
//   Prefix  P-Tuning v2, M prefix key/value vectors per head and layer ("prefix:M";
//           prefix_attention.h)
//   Ntk     NTK-Attention, (Z, k) per head and layer: d^2 + d parameters per head ("ntk";
//           ntk_attention.h)
// with the backbone copy and freezing that start every adapted model (adapters.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/ntk_attention/lora.h"
#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/ntk_attention/prefix_attention.h"

namespace lmlab::ntk_attention {

enum class AdaptKind { Full, Head, Lora, Prefix, Ntk };

struct AdaptMethod {
  std::string name;                 // as written, e.g. "lora:4"
  AdaptKind kind = AdaptKind::Full;
  int64_t size = 0;                 // R (Lora) or M (Prefix); 0 otherwise
  double lora_alpha = LoraOptions(1).alpha();                   // Lora: scaling alpha / R
  double ntk_kappa_init = NtkAttentionOptions().kappa_init();  // Ntk: starting kappa

  bool frozen_backbone() const { return kind != AdaptKind::Full; }
  bool peft_baseline() const { return kind == AdaptKind::Lora || kind == AdaptKind::Prefix; }
};

// "full", "head", "ntk", "lora:R" or "prefix:M" (R, M >= 1); UsageError naming the accepted forms
// for anything else.
AdaptMethod parse_adapt_method(const std::string& text);

// `options` (GPTOptions or ViTOptions) with the method's attention core (Prefix, Ntk) or linear
// factory (Lora); unchanged for Full and Head.
template <class Options>
Options with_adapter(Options options, const AdaptMethod& m) {
  switch (m.kind) {
    case AdaptKind::Ntk:
      return options.attention(ntk_attention_factory(NtkAttentionOptions().kappa_init(m.ntk_kappa_init)));
    case AdaptKind::Prefix: return options.attention(prefix_attention_factory(PrefixAttentionOptions(m.size)));
    case AdaptKind::Lora: return options.linear(lora_linear_factory(LoraOptions(m.size).alpha(m.lora_alpha)));
    case AdaptKind::Full:
    case AdaptKind::Head: return options;
  }
  return options;
}

// Copies the backbone into `model` except names starting with one of `fresh` (a new head), then
// freezes all but the adapters and `fresh` (all stays trainable for Full). Returns the number of
// trainable scalars; UsageError if nothing would be trained (Head without a fresh head).
int64_t start_adaptation(torch::nn::Module& model, const torch::nn::Module& backbone, const AdaptMethod& m,
                         const std::vector<std::string>& fresh);

// Mean of kappa over every NtkAttention core of `model` (how much prefix mass the adaptation
// learned; kappa_init at the start); NaN when it has none.
double mean_ntk_kappa(torch::nn::Module& model);

}  // namespace lmlab::ntk_attention
