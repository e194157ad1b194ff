// The frame of the learning-rate adapters (delta-bar-delta, RDBD, hypergradient descent): each
// step it sets every parameter group's learning rate of a torch::optim::Optimizer from the group's
// current gradient g_t and the base optimizer's previous steps, then takes the step (through a
// StepWrapper such as RandomVectorAccelerating when one is given, else the optimizer itself), and
// records the step's direction per unit learning rate, d_t = (theta_before - theta_after) / lr_t
// (for plain SGD, d_t = g_t). Inner products are global over a group's parameters; every lr is
// clamped to [lr_min, lr_max]. A rule sees only inner products (Inner), so over SGD with momentum
// on float32 parameters (and no StepWrapper) the frame takes them from the fused step
// (momentum_step.h), where d_t is the momentum buffer itself and the average advances in the same
// pass; the gradients are then checked for NaN/Inf after the buffers took them. State (lrs, directions, averages) is saved and restored with
// save() / load(), beside the base optimizer's own; load() also sets the groups' lrs, which
// LibTorch 1.13's Optimizer::load leaves at the constructor's values.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

#include "lmlab/optim/acceleration.h"
#include "lmlab/optim/momentum_step.h"
#include "lmlab/optim/step_wrapper.h"

namespace lmlab::optim {

struct LrBounds {
  void validate() const;  // UsageError unless 0 < lr_min <= lr_max < inf
  TORCH_ARG(double, lr_min) = 1e-8;
  TORCH_ARG(double, lr_max) = 10.0;
};

class LrAdapter {
 public:
  // Adapts `base`'s group learning rates; steps through `through` when given (it must wrap `base`).
  LrAdapter(torch::optim::Optimizer& base, LrBounds bounds, StepWrapper* through = nullptr);
  virtual ~LrAdapter() = default;
  LrAdapter(const LrAdapter&) = delete;
  LrAdapter& operator=(const LrAdapter&) = delete;

  // Evaluates `closure` when given (it computes the loss and calls backward), sets each group's
  // learning rate, takes the step; returns the closure's loss (undefined without one).
  torch::Tensor step(const std::function<torch::Tensor()>& closure = nullptr);
  void zero_grad() { base_.zero_grad(); }
  // The current learning rate of each parameter group.
  std::vector<double> lrs() const;
  int64_t steps() const { return steps_; }

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 protected:
  // Per parameter group: what the rules remember.
  struct GroupState {
    TensorList direction;  // d_{t-1}: the previous step per unit lr (empty before the first step)
    TensorList average;    // deltabar_{t-1} (delta-bar-delta's exponential average of d)
    double last_change = 0;  // the lr change of the previous adaptation (RDBD's regret undoes it)
    TensorList spare;        // d_{t-2}'s buffers, reused for the next step's copy of the parameters
    bool borrowed = false;   // direction is the optimizer's momentum buffers (fused step): no spare
  };
  // What a rule reads of the gradient g_t: <g_t, d_{t-1}> when it uses the direction, and
  // <g_t, deltabar_{t-1}> when it keeps the average (0 while the state is empty).
  struct Inner {
    double g_direction = 0, g_average = 0;
  };
  // The group's next learning rate from its current one, the inner products and its state; called
  // before the step. The result is clamped by the caller.
  virtual double adapt(double lr, const Inner& inner, GroupState& state) = 0;
  // Whether the rule reads <g_t, d_{t-1}>.
  virtual bool uses_direction() const { return false; }
  // The rule's averaging factor theta when it keeps deltabar_t = theta deltabar_{t-1} + (1 - theta) d_t
  // (the frame updates it after each step, from zeros), negative when it keeps none.
  virtual double average_theta() const { return -1; }

 private:
  // The step over SGD with momentum by its fused passes.
  void fused_step(MomentumStep& m);
  // The group's lr from the rule, clamped, checking first that its gradients are finite (||g||^2).
  double next_lr(size_t group, double g_g, const Inner& inner);

  torch::optim::Optimizer& base_;
  LrBounds bounds_;
  StepWrapper* through_;
  std::vector<GroupState> groups_;
  int64_t steps_ = 0;
};

}  // namespace lmlab::optim
