// The adaptation methods of the ntk_attention.finetune_* experiments, read from their config. Their
// claims compare NTK-Attention with a LoRA or P-Tuning v2 baseline, so a method list without them
// is refused before any training.
#pragma once

#include <vector>

#include "lmlab/core/config.h"
#include "lmlab/ntk_attention/adaptation.h"

namespace lmlab {

// UsageError unless `methods` holds "ntk" and at least one lora:R or prefix:M method.
void check_claim_methods(const std::vector<ntk_attention::AdaptMethod>& methods);

// The config's `methods` (parse_adapt_method) with adapt.lora_alpha and adapt.ntk_kappa_init set,
// checked by check_claim_methods.
std::vector<ntk_attention::AdaptMethod> configured_methods(const Config& cfg);

}  // namespace lmlab
