// Delta-bar-delta (include/lmlab/optim/delta_bar_delta.h).
#include "lmlab/optim/delta_bar_delta.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::optim {

void DeltaBarDeltaOptions::validate() const {
  bounds().validate();
  LMLAB_CHECK(kappa() >= 0 && std::isfinite(kappa()), UsageError,
              "delta-bar-delta kappa (additive lr increase) must be finite and >= 0; got ", kappa());
  LMLAB_CHECK(phi() >= 0 && phi() < 1, UsageError,
              "delta-bar-delta phi (multiplicative lr decrease) must be in [0, 1); got ", phi());
  LMLAB_CHECK(theta() >= 0 && theta() < 1, UsageError, "delta-bar-delta theta (averaging) must be in [0, 1); got ",
              theta());
}

DeltaBarDelta::DeltaBarDelta(torch::optim::Optimizer& base, DeltaBarDeltaOptions options, StepWrapper* through)
    : LrAdapter(base, options.bounds(), through), options_(options) {
  options.validate();
}

double DeltaBarDelta::change(double lr, double s) const {
  if (s > 0) return options_.kappa();
  if (s < 0) return -options_.phi() * lr;
  return 0;
}

double DeltaBarDelta::adapt(double lr, const TensorList& grads, GroupState& state) {
  if (state.average.empty()) return lr;
  const double s = global_dot(grads, state.average);
  state.last_change = change(lr, s);
  return lr + state.last_change;
}

void DeltaBarDelta::observe(const TensorList& direction, GroupState& state) {
  if (state.average.empty())
    for (const auto& d : direction) state.average.push_back(torch::zeros_like(d));
  for (size_t i = 0; i < direction.size(); ++i)
    state.average[i].mul_(options_.theta()).add_(direction[i], 1 - options_.theta());
}

}  // namespace lmlab::optim
