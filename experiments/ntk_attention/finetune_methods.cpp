// The fine-tuning experiments' methods (finetune_methods.h).
#include "ntk_attention/finetune_methods.h"

#include <algorithm>

#include "lmlab/core/error.h"

namespace lmlab {

void check_claim_methods(const std::vector<ntk_attention::AdaptMethod>& methods) {
  const auto has = [&](auto pred) { return std::any_of(methods.begin(), methods.end(), pred); };
  LMLAB_CHECK(has([](const ntk_attention::AdaptMethod& m) { return m.kind == ntk_attention::AdaptKind::Ntk; }) &&
                  has([](const ntk_attention::AdaptMethod& m) { return m.peft_baseline(); }),
              UsageError,
              "the claims compare \"ntk\" with LoRA or P-Tuning v2: keep \"ntk\" and at least one lora:R or prefix:M "
              "in methods");
}

std::vector<ntk_attention::AdaptMethod> configured_methods(const Config& cfg) {
  std::vector<ntk_attention::AdaptMethod> methods;
  for (const auto& name : cfg.get_string_list("methods")) {
    methods.push_back(ntk_attention::parse_adapt_method(name));
    methods.back().lora_alpha = cfg.get_float("adapt.lora_alpha");
    methods.back().ntk_kappa_init = cfg.get_float("adapt.ntk_kappa_init");
  }
  check_claim_methods(methods);
  return methods;
}

}  // namespace lmlab
