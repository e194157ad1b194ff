// Hypergradient descent (include/lmlab/optim/hypergradient.h).
#include "lmlab/optim/hypergradient.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::optim {

void HypergradientOptions::validate() const {
  bounds().validate();
  LMLAB_CHECK(beta() >= 0 && std::isfinite(beta()), UsageError, "hypergradient beta must be finite and >= 0; got ",
              beta());
}

Hypergradient::Hypergradient(torch::optim::Optimizer& base, HypergradientOptions options, StepWrapper* through)
    : LrAdapter(base, options.bounds(), through), options_(options) {
  options.validate();
}

double Hypergradient::adapt(double lr, const Inner& inner, GroupState& state) {
  if (state.direction.empty()) return lr;
  return lr + options_.beta() * inner.g_direction;
}

}  // namespace lmlab::optim
