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

double DeltaBarDelta::adapt(double lr, const Inner& inner, GroupState& state) {
  if (state.average.empty()) return lr;
  state.last_change = change(lr, inner.g_average);
  return lr + state.last_change;
}

}  // namespace lmlab::optim
