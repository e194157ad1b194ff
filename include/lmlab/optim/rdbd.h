// RDBD, Regrettable Delta-Bar-Delta (P8, arXiv 2310.11291, Song, Yang; our reading, NOTES.md P8
// [ours]): delta-bar-delta (delta_bar_delta.h) that regrets. When the agreement sign flips against
// the previous adjustment (an increase followed by disagreement, or a decrease followed by
// agreement), that adjustment is undone first (the lr it replaced is restored), then the new one
// is applied to the restored lr:
//   lr_t = (lr_{t-1} - c_{t-1}) + c_t   if sign(c_t) != sign(c_{t-1}),   else lr_{t-1} + c_t,
// with c the rule's change (+kappa or -phi lr). Noise that flips the sign step to step so leaves
// the lr where it was instead of compounding decreases. Deviation: the paper's regret may also
// watch a smoothed loss; this reading uses the sign test only.
#pragma once

#include "lmlab/optim/delta_bar_delta.h"

namespace lmlab::optim {

class RDBD : public DeltaBarDelta {
 public:
  RDBD(torch::optim::Optimizer& base, DeltaBarDeltaOptions options = {}, StepWrapper* through = nullptr)
      : DeltaBarDelta(base, options, through) {}
  // Adjustments undone so far, over all groups.
  int64_t regrets() const { return regrets_; }

 protected:
  double adapt(double lr, const Inner& inner, GroupState& state) override;

 private:
  int64_t regrets_ = 0;
};

}  // namespace lmlab::optim
