// The adaptation methods of P2's comparisons (include/lmlab/ntk_attention/adaptation.h).
#include "lmlab/ntk_attention/adaptation.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"
#include "lmlab/ntk_attention/adapters.h"

namespace lmlab::ntk_attention {

AdaptMethod parse_adapt_method(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  AdaptMethod m;
  m.name = text;
  bool ok = colon == std::string::npos;
  if (kind == "full") m.kind = AdaptKind::Full;
  else if (kind == "head") m.kind = AdaptKind::Head;
  else if (kind == "ntk") m.kind = AdaptKind::Ntk;
  else if (kind == "lora" || kind == "prefix") {
    m.kind = kind == "lora" ? AdaptKind::Lora : AdaptKind::Prefix;
    const std::string size = colon == std::string::npos ? "" : text.substr(colon + 1);
    ok = !size.empty() && size.find_first_not_of("0123456789") == std::string::npos && size.size() < 10;
    if (ok) m.size = std::stoll(size);
    ok = ok && m.size >= 1;
  } else {
    ok = false;
  }
  LMLAB_CHECK(ok, UsageError, "unknown adaptation method '", text, "'; use full, head, ntk, lora:R or prefix:M (R, M >= 1)");
  return m;
}

int64_t start_adaptation(torch::nn::Module& model, const torch::nn::Module& backbone, const AdaptMethod& m,
                         const std::vector<std::string>& fresh) {
  copy_matching_parameters(backbone, model, fresh);
  if (!m.frozen_backbone()) return set_trainable(model, [](const std::string&) { return true; });
  return train_adapters_only(model, fresh);
}

double mean_ntk_kappa(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t n = 0;
  for (const auto& module : model.modules())
    if (const auto* core = dynamic_cast<const NtkAttention*>(module.get())) {
      const auto kappa = core->kappa();
      sum += kappa.sum().item<double>(), n += kappa.numel();
    }
  return n ? sum / static_cast<double>(n) : NAN;
}

}  // namespace lmlab::ntk_attention
