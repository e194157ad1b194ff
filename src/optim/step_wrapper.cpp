// The step-observing frame of P4's plug-ins (include/lmlab/optim/step_wrapper.h).
#include "lmlab/optim/step_wrapper.h"

#include <cmath>

#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"

namespace lmlab::optim {
namespace {

// The group's learning rate; NaN for options without one (get_lr() not implemented).
double group_lr(torch::optim::OptimizerParamGroup& group) {
  try {
    return group.options().get_lr();
  } catch (const c10::Error&) {
    return NAN;
  }
}

}  // namespace

torch::Tensor StepWrapper::step(const std::function<torch::Tensor()>& closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  if (MomentumStep::applies(base_)) {
    MomentumStep m(base_);
    ++steps_;  // as on the observed path: the rule runs with the step counted
    fused_step(m);
    return loss;
  }
  Snapshot s;
  {
    torch::NoGradGuard no_grad;
    for (auto& group : base_.param_groups())
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        s.params.push_back(p);
        s.before.push_back(p.detach().clone());
        s.grads.push_back(p.grad().detach().clone());
        s.lrs.push_back(group_lr(group));
      }
  }
  base_.step();
  ++steps_;
  if (s.params.empty()) return loss;
  torch::NoGradGuard no_grad;
  TensorList u;
  u.reserve(s.params.size());
  for (size_t i = 0; i < s.params.size(); ++i) u.push_back(s.before[i] - s.params[i].detach());
  adjust(s, u);
  return loss;
}

void StepWrapper::take_step(const Snapshot& s, const TensorList& d) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < s.params.size(); ++i) s.params[i].copy_(s.before[i] - d[i]);
}

void StepWrapper::save(torch::serialize::OutputArchive& archive) const {
  archive.write("steps", torch::tensor(steps_));
}

void StepWrapper::load(torch::serialize::InputArchive& archive) {
  steps_ = read_archive_count(archive, "steps", "optimizer state");
}

}  // namespace lmlab::optim
