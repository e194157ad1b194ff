// The adaptation methods of the ntk_attention.finetune_* experiments (adaptation.h).
#include "adaptation.h"

#include <algorithm>
#include <cmath>
#include <sstream>

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

void check_claim_methods(const std::vector<AdaptMethod>& methods) {
  const auto has = [&](auto pred) { return std::any_of(methods.begin(), methods.end(), pred); };
  LMLAB_CHECK(has([](const AdaptMethod& m) { return m.kind == "ntk"; }) &&
                  has([](const AdaptMethod& m) { return m.peft_baseline(); }),
              UsageError,
              "the claims compare \"ntk\" with LoRA or P-Tuning v2: keep \"ntk\" and at least one lora:R or prefix:M "
              "in methods");
}

int64_t start_adaptation(torch::nn::Module& model, const torch::nn::Module& backbone, const AdaptMethod& m,
                         const std::vector<std::string>& fresh) {
  attention::copy_matching_parameters(backbone, model, fresh);
  if (!m.frozen_backbone()) return set_trainable(model, [](const std::string&) { return true; });
  return attention::train_adapters_only(model, fresh);
}

Row choose_learning_rate(RunContext& ctx, const std::string& key, const FloatList& factors, double base_lr,
                         const std::function<Row(double lr)>& trial) {
  Row best;
  double best_loss = INFINITY, best_lr = 0;
  for (const double f : factors) {
    std::ostringstream point;
    point << key;
    if (factors.size() > 1) point << ",lr_factor=" << f;
    const Row row = ctx.sweep_point(point.str(), [&] { return trial(f * base_lr); });
    double loss = factors.size() > 1 ? row_number(row, "selection_loss") : 0;
    if (std::isnan(loss)) loss = INFINITY;  // a diverged run never wins
    if (best.empty() || loss < best_loss) best = row, best_loss = loss, best_lr = f * base_lr;
  }
  best.emplace_back("lr", best_lr);
  return best;
}

void check_lr_factors(const FloatList& factors, int64_t selection_size, const std::string& fix) {
  LMLAB_CHECK(!factors.empty() && std::all_of(factors.begin(), factors.end(), [](double f) { return f > 0; }),
              UsageError, "adapt.lr_factors must be a non-empty list of positive factors, e.g. [0.3, 1.0, 3.0]");
  LMLAB_CHECK(factors.size() == 1 || selection_size >= 1, UsageError, "adapt.lr_factors has ", factors.size(),
              " entries, so the learning rate is chosen on held-out training data, and there is none: ", fix,
              " (or give one factor)");
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
