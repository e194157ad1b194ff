// RDBD (include/lmlab/optim/rdbd.h).
#include "lmlab/optim/rdbd.h"

namespace lmlab::optim {

double RDBD::adapt(double lr, const Inner& inner, GroupState& state) {
  if (state.average.empty()) return lr;
  const double previous = state.last_change;
  const double s = inner.g_average;
  if (previous != 0 && s != 0 && (s > 0) != (previous > 0)) {
    lr -= previous;  // regret: restore the lr the previous adjustment replaced
    ++regrets_;
  }
  state.last_change = change(lr, s);
  return lr + state.last_change;
}

}  // namespace lmlab::optim
