// Shared pieces of the privacy attack experiments (attack_runs.h).
#include "privacy/attack_runs.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab {

void check_int_range(const Config& cfg, std::initializer_list<const char*> keys, int64_t limit) {
  for (const char* key : keys) {
    const int64_t v = cfg.get_int(key);
    LMLAB_CHECK(v >= 1 && v <= limit, UsageError, key, " must be in [1, ", limit, "]; got ", v);
  }
}

void check_positive(const Config& cfg, std::initializer_list<const char*> keys, bool allow_zero) {
  for (const char* key : keys) {
    const double v = cfg.get_float(key);
    LMLAB_CHECK(std::isfinite(v) && (v > 0 || (allow_zero && v == 0)), UsageError, key, " must be finite and ",
                allow_zero ? ">= 0" : "> 0", "; got ", v);
  }
}

privacy::DlgOptions dlg_options(const Config& cfg) {
  auto o = privacy::DlgOptions()
               .iterations(cfg.get_int("dlg.iterations"))
               .inner_iterations(cfg.get_int("dlg.inner_iterations"))
               .history(cfg.get_int("dlg.history"))
               .lr(cfg.get_float("dlg.lr"));
  o.validate();
  return o;
}

privacy::InvertingGradientsOptions ig_options(const Config& cfg) {
  auto o = privacy::InvertingGradientsOptions()
               .iterations(cfg.get_int("ig.iterations"))
               .lr(cfg.get_float("ig.lr"))
               .tv_weight(cfg.get_float("ig.tv_weight"));
  o.validate();
  return o;
}

privacy::TagOptions tag_options(const Config& cfg) {
  auto o = privacy::TagOptions()
               .iterations(cfg.get_int("tag.iterations"))
               .lr(cfg.get_float("tag.lr"))
               .alpha(cfg.get_float("tag.alpha"))
               .clip_norm(cfg.get_float("tag.clip_norm"));
  o.validate();
  return o;
}

FloatList tensor_values(const torch::Tensor& t) {
  const auto flat = t.detach().to(torch::kDouble).contiguous().view(-1);
  return FloatList(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

torch::Tensor tensor_from_values(const FloatList& values, const std::vector<int64_t>& shape) {
  return torch::tensor(values, torch::kDouble).to(torch::kFloat).view(shape);  // view checks the size
}

}  // namespace lmlab
