// The adaptation methods of the ntk_attention.finetune_* experiments (adaptation.h).
#include "adaptation.h"

#include <cmath>

#include "lmlab/attention/adapters.h"
#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab {

AdaptMethod parse_adapt_method(const std::string& text) {
  const size_t colon = text.find(':');
  AdaptMethod m{text, text.substr(0, colon), 0};
  bool ok = (m.kind == "full" || m.kind == "head" || m.kind == "ntk") && colon == std::string::npos;
  if ((m.kind == "lora" || m.kind == "prefix") && colon != std::string::npos) {
    const std::string size = text.substr(colon + 1);
    ok = !size.empty() && size.find_first_not_of("0123456789") == std::string::npos && size.size() < 10;
    if (ok) m.size = std::stoll(size);
    ok = ok && m.size >= 1;
  }
  LMLAB_CHECK(ok, UsageError, "unknown adaptation method '", text, "'; use full, head, ntk, lora:R or prefix:M (R, M >= 1)");
  return m;
}

int64_t start_adaptation(torch::nn::Module& model, const torch::nn::Module& backbone, const AdaptMethod& m,
                         const std::vector<std::string>& fresh) {
  attention::copy_matching_parameters(backbone, model, fresh);
  if (!m.frozen_backbone()) return set_trainable(model, [](const std::string&) { return true; });
  return attention::train_adapters_only(model, fresh);
}

double mean_ntk_kappa(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  int64_t n = 0;
  for (const auto& module : model.modules())
    if (const auto* core = dynamic_cast<const attention::NtkAttention*>(module.get())) {
      const auto kappa = core->kappa();
      sum += kappa.sum().item<double>(), n += kappa.numel();
    }
  return n ? sum / static_cast<double>(n) : NAN;
}

}  // namespace lmlab
