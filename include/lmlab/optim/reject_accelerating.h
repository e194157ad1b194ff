// Reject Accelerating (P4, arXiv 2402.01515; our reading, NOTES.md P4 [ours]). The base step is
// written u = lr (g + a): g the raw stochastic gradient, a what the base optimizer adds to it
// (SGD momentum: the momentum part; Adam and AdaGrad: the preconditioned direction minus the raw
// gradient, both in the learning rate's scale, a = u / lr - g, per parameter group). When
// <a, g> < 0 (global over all parameters) the acceleration term points against the gradient: it
// is rejected and the plain gradient step theta - lr g is taken instead; otherwise the base step
// stands; when a is rounding (plain SGD: ||a|| <= 1e-9 ||g||, or ||lr a|| within 4 eps of the
// parameters' norm, the rounding of the observed step) there is nothing to reject. The
// base optimizer's own state (momentum, moments) advances either way. Over AdaGrad and Adam,
// u / lr is of order 1 per coordinate while g has the gradient's scale, so a is mostly -g and
// nearly every step is rejected (measured in optim.accelerating, docs/optim.md). Deviation: the
// paper analyses <v_t, g_t> with v_t the acceleration term of its unified form; we take a, the
// part of the base step beyond the raw gradient, as that term.
#pragma once

#include "lmlab/optim/step_wrapper.h"

namespace lmlab::optim {

class RejectAccelerating : public StepWrapper {
 public:
  explicit RejectAccelerating(torch::optim::Optimizer& base) : StepWrapper(base) {}
  // Steps whose acceleration was rejected so far.
  int64_t rejected() const { return rejected_; }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 protected:
  void adjust(const Snapshot& s, const TensorList& u) override;
  void fused_step(MomentumStep& m) override;

 private:
  int64_t rejected_ = 0;
};

}  // namespace lmlab::optim
