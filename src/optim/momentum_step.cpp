// SGD with momentum by the fused kernels (include/lmlab/optim/momentum_step.h).
#include "lmlab/optim/momentum_step.h"

#include "lmlab/core/error.h"

namespace lmlab::optim {
namespace {

bool plain_float(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous() &&
         t.layout() == torch::kStrided;
}

std::string key_of(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

float* data(const torch::Tensor& t) { return t.data_ptr<float>(); }

}  // namespace

bool MomentumStep::applies(torch::optim::Optimizer& base) {
  auto* sgd = dynamic_cast<torch::optim::SGD*>(&base);
  if (sgd == nullptr) return false;
  for (auto& group : sgd->param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    if (o.momentum() == 0 || o.nesterov()) return false;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      if (!plain_float(p) || !plain_float(p.grad()) || p.grad().sizes() != p.sizes()) return false;
      const auto it = sgd->state().find(key_of(p));
      if (it == sgd->state().end()) continue;
      const auto& buffer = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
      if (!plain_float(buffer) || buffer.sizes() != p.sizes()) return false;
    }
  }
  return true;
}

MomentumStep::MomentumStep(torch::optim::Optimizer& base)
    : sgd_(dynamic_cast<torch::optim::SGD&>(base)), groups_(base.param_groups().size()) {
  for (size_t i = 0; i < groups_.size(); ++i)
    for (auto& p : sgd_.param_groups()[i].params()) {
      if (!p.grad().defined()) continue;
      groups_[i].params.push_back(p);
      groups_[i].grads.push_back(p.grad());
      const auto it = sgd_.state().find(key_of(p));
      groups_[i].buffers.push_back(it == sgd_.state().end()
                                       ? torch::Tensor()
                                       : static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer());
    }
}

void MomentumStep::update(std::vector<TensorList>* averages, double theta) {
  torch::NoGradGuard no_grad;
  const auto& kernels = kernels::optim_kernels();
  for (size_t i = 0; i < groups_.size(); ++i) {
    Group& g = groups_[i];
    const auto& o = static_cast<const torch::optim::SGDOptions&>(sgd_.param_groups()[i].options());
    TensorList* average = averages == nullptr ? nullptr : &(*averages)[i];
    if (average != nullptr && average->empty())
      for (const auto& p : g.params) average->push_back(torch::zeros_like(p));
    if (average != nullptr) {
      bool fits = average->size() == g.params.size();
      for (size_t j = 0; fits && j < g.params.size(); ++j)
        fits = plain_float((*average)[j]) && (*average)[j].sizes() == g.params[j].sizes();
      LMLAB_CHECK(fits, UsageError, "the averages of parameter group ", i, " no longer match its parameters with a "
                  "gradient; keep the same parameters training from step to step");
    }
    g.dots = {};
    for (size_t j = 0; j < g.params.size(); ++j) {
      const bool first = !g.buffers[j].defined();
      if (first) {  // LibTorch's first step: b = clone(d), kept in the optimizer's state
        g.buffers[j] = torch::empty_like(g.params[j]);
        auto state = std::make_unique<torch::optim::SGDParamState>();
        state->momentum_buffer(g.buffers[j]);
        sgd_.state()[key_of(g.params[j])] = std::move(state);
      }
      kernels::MomentumUpdateArgs args{data(g.grads[j]), data(g.params[j]), data(g.buffers[j]),
                                       average == nullptr ? nullptr : data((*average)[j]), 0,
                                       float(o.momentum()), float(1 - o.dampening()), float(o.weight_decay()),
                                       float(theta), float(1 - theta), first};
      g.dots += over_slices<kernels::MomentumDots>(g.params[j].numel(), [&](int64_t begin, int64_t end) {
        kernels::MomentumUpdateArgs slice = args;
        slice.grad += begin, slice.param += begin, slice.buffer += begin, slice.n = end - begin;
        if (slice.average != nullptr) slice.average += begin;
        return kernels.momentum_update(slice);
      });
    }
  }
}

void MomentumStep::along(const TensorList& v, double c) { move(false, v, c); }

void MomentumStep::gradient() { move(true, {}, 0); }

void MomentumStep::move(bool along_gradient, const TensorList& v, double c) {
  torch::NoGradGuard no_grad;
  const auto& kernels = kernels::optim_kernels();
  size_t k = 0;
  for (size_t i = 0; i < groups_.size(); ++i) {
    const auto lr = float(sgd_.param_groups()[i].options().get_lr());
    for (size_t j = 0; j < groups_[i].params.size(); ++j, ++k) {
      float* p = data(groups_[i].params[j]);
      const float* x = data(along_gradient ? groups_[i].grads[j] : groups_[i].buffers[j]);
      const float* y = v.empty() ? nullptr : data(v[k]);
      for_slices(groups_[i].params[j].numel(), [&](int64_t, int64_t begin, int64_t end) {
        kernels.step_along(p + begin, x + begin, y == nullptr ? nullptr : y + begin, lr, float(c / lr), end - begin);
      });
    }
  }
}

kernels::MomentumDots MomentumStep::dots() const {
  kernels::MomentumDots total;
  for (const auto& g : groups_) total += g.dots;
  return total;
}

}  // namespace lmlab::optim
