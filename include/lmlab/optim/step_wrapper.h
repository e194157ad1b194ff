// The frame of P4's plug-ins (arXiv 2402.01515): a wrapper over any torch::optim::Optimizer that
// sees the base step as a direction, so it wraps optimizers it does not know. Before the base step
// it copies the parameters; after it, u = theta_before - theta_after is the step the base took
// (its learning rate included); the wrapper's rule may then replace the step. Parameters without a
// gradient are left to the base optimizer. Inner products are global over all parameters
// (acceleration.h). Over SGD with momentum on float32 parameters the step is not observed but
// taken by MomentumStep (momentum_step.h), whose fused passes give the rule the direction and its
// inner products directly; the rule is the same, the trajectory equal up to float rounding.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

#include "lmlab/optim/acceleration.h"
#include "lmlab/optim/momentum_step.h"

namespace lmlab::optim {

class StepWrapper {
 public:
  explicit StepWrapper(torch::optim::Optimizer& base) : base_(base) {}
  virtual ~StepWrapper() = default;
  StepWrapper(const StepWrapper&) = delete;
  StepWrapper& operator=(const StepWrapper&) = delete;

  // Evaluates `closure` when given (with gradients enabled; it computes the loss and calls
  // backward), takes the base step, then the wrapper's rule. Returns the closure's loss, or an
  // undefined tensor without one.
  torch::Tensor step(const std::function<torch::Tensor()>& closure = nullptr);
  void zero_grad() { base_.zero_grad(); }
  torch::optim::Optimizer& base() { return base_; }
  int64_t steps() const { return steps_; }

  // Saves / restores the wrapper's own state (the base optimizer saves its own).
  virtual void save(torch::serialize::OutputArchive& archive) const;
  virtual void load(torch::serialize::InputArchive& archive);

 protected:
  // The parameters that have a gradient, group by group, with their values before the base step,
  // their gradients and their group's learning rate (get_lr()).
  struct Snapshot {
    TensorList params, before, grads;
    std::vector<double> lrs;
  };
  // Called after the base step with u_i = before_i - params_i; sets the parameters to the step the
  // wrapper takes (leaving them as they are keeps the base step).
  virtual void adjust(const Snapshot& s, const TensorList& u) = 0;
  // params_i = before_i - d_i.
  static void take_step(const Snapshot& s, const TensorList& d);
  // The rule over the fused SGD-momentum step: advance it (m.update()), then move the parameters
  // (m.along(), m.gradient()). Its direction per unit lr is the momentum buffer b, u = lr b.
  virtual void fused_step(MomentumStep& m) = 0;

 private:
  torch::optim::Optimizer& base_;
  int64_t steps_ = 0;
};

}  // namespace lmlab::optim
