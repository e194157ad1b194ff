// Shared by the ntk_attention.finetune_* experiments: the adaptation methods compared (P2, arXiv
// 2406.14036), parsed from config strings, applied to a model's options, and the backbone copy and
// freezing that start every adapted run.
//   "full"      all parameters trained, no adapter
//   "head"      no adapter: the backbone frozen, only the new task head trained (the baseline an
//               adapter must beat; not a parameter-efficient method in the claims)
//   "lora:R"    LoRA of rank R on the attention projections q, k, v, o (a model's only C -> C
//               linear layers in lmlab's GPT and ViT, whose MLPs have mlp_ratio > 1)
//   "prefix:M"  P-Tuning v2, M prefix key/value vectors per head and layer
//   "ntk"       NTK-Attention, (Z, k) per head and layer: d^2 + d parameters per head
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/attention/lora.h"
#include "lmlab/attention/ntk_attention.h"
#include "lmlab/attention/prefix_attention.h"
#include "lmlab/core/run.h"

namespace lmlab {

struct AdaptMethod {
  std::string name;  // as configured, e.g. "lora:4"
  std::string kind;  // full, head, lora, prefix, ntk
  int64_t size = 0;  // R or M
  bool frozen_backbone() const { return kind != "full"; }    // trained at adapt.adapter_lr
  bool peft_baseline() const { return kind == "lora" || kind == "prefix"; }  // in the claims
};

// UsageError naming the accepted forms for anything else.
AdaptMethod parse_adapt_method(const std::string& text);

// UsageError unless `methods` holds "ntk" and at least one LoRA or P-Tuning v2 method (what the
// claims compare); checked before any training.
void check_claim_methods(const std::vector<AdaptMethod>& methods);

// `options` (GPTOptions or ViTOptions) with the method's attention or linear factory; config keys
// adapt.lora_alpha (LoRA's alpha) and adapt.ntk_kappa_init (NTK-Attention's initial kappa).
template <class Options>
Options with_adapter(Options options, const AdaptMethod& m, const Config& cfg) {
  const double lora_alpha = cfg.get_float("adapt.lora_alpha");
  if (m.kind == "ntk")
    options.attention(attention::ntk_attention_factory(
        attention::NtkAttentionOptions().kappa_init(cfg.get_float("adapt.ntk_kappa_init"))));
  if (m.kind == "prefix") options.attention(attention::prefix_attention_factory(attention::PrefixAttentionOptions(m.size)));
  if (m.kind == "lora") {
    const LinearFactory lora = attention::lora_linear_factory(attention::LoraOptions(m.size).alpha(lora_alpha));
    const LinearFactory plain = default_linear_factory();
    const int64_t c = options.width();
    options.linear([=](int64_t in, int64_t out, bool bias) { return in == c && out == c ? lora(in, out, bias) : plain(in, out, bias); });
  }
  return options;
}

// Copies the backbone into `model` except names starting with one of `fresh` (a new head), then
// freezes all but the adapters and `fresh` (all stays trainable for "full"). Returns the number
// of trainable scalars; UsageError if nothing would be trained ("head" without a fresh head).
int64_t start_adaptation(torch::nn::Module& model, const torch::nn::Module& backbone, const AdaptMethod& m,
                         const std::vector<std::string>& fresh);

// Learning-rate choice (config adapt.lr_factors): trial(lr) adapts a fresh copy at lr = f x base_lr
// for each factor f, one resumable sweep point each (keyed `key,lr_factor=f`, or `key` alone when
// there is a single factor), and returns a row with "selection_loss", measured on data held out of
// the training set (never on the reported split). Returns the row of the lowest selection loss
// (the first on ties) with "lr" added; with a single factor, that factor's row, unselected.
Row choose_learning_rate(RunContext& ctx, const std::string& key, const FloatList& factors, double base_lr,
                         const std::function<Row(double lr)>& trial);

// UsageError unless `factors` is non-empty and positive, and, when it has several entries,
// `selection_size` (the held-out data the choice is made on) is >= 1; `fix` says how to get some.
void check_lr_factors(const FloatList& factors, int64_t selection_size, const std::string& fix);

// Mean of kappa over every NtkAttention core of `model` (how much prefix mass the adaptation
// learned; kappa_init at the start); NaN when it has none.
double mean_ntk_kappa(torch::nn::Module& model);

}  // namespace lmlab
