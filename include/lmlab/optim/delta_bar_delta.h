// Delta-bar-delta (Jacobs 1988), the rule P8 (arXiv 2310.11291) starts from, per parameter group
// over any optimizer (lr_adapter.h), with delta_t = g_t the current gradient and deltabar the
// exponential average of the base optimizer's step directions d (d = g for plain SGD, so this is
// Jacobs's rule there):
//   s = sign(<g_t, deltabar_{t-1}>);  lr += kappa if s > 0,  lr -= phi lr if s < 0;
//   deltabar_t = theta deltabar_{t-1} + (1 - theta) d_t,  deltabar_0 = 0.
// The first step keeps the lr. Deviation: Jacobs adapts one lr per weight; here one per group (make
// one group per tensor for per-tensor rates).
#pragma once

#include "lmlab/optim/lr_adapter.h"

namespace lmlab::optim {

struct DeltaBarDeltaOptions {
  void validate() const;  // UsageError naming the value out of range
  TORCH_ARG(double, kappa) = 1e-3;  // additive increase, >= 0
  TORCH_ARG(double, phi) = 0.1;     // multiplicative decrease, in [0, 1)
  TORCH_ARG(double, theta) = 0.7;   // averaging of deltabar, in [0, 1)
  TORCH_ARG(LrBounds, bounds) = LrBounds();
};

class DeltaBarDelta : public LrAdapter {
 public:
  DeltaBarDelta(torch::optim::Optimizer& base, DeltaBarDeltaOptions options = {}, StepWrapper* through = nullptr);

 protected:
  double adapt(double lr, const Inner& inner, GroupState& state) override;
  double average_theta() const override { return options_.theta(); }
  // The rule's change of `lr` for the agreement sign s (+kappa, -phi lr or 0).
  double change(double lr, double s) const;

  DeltaBarDeltaOptions options_;
};

}  // namespace lmlab::optim
