// The learning-rate adapter frame (include/lmlab/optim/lr_adapter.h).
#include "lmlab/optim/lr_adapter.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"

namespace lmlab::optim {
namespace {

// The parameters of a group that have a gradient.
TensorList with_grad(torch::optim::OptimizerParamGroup& group) {
  TensorList out;
  for (auto& p : group.params())
    if (p.grad().defined()) out.push_back(p);
  return out;
}

}  // namespace

void LrBounds::validate() const {
  LMLAB_CHECK(lr_min() > 0 && lr_min() <= lr_max() && std::isfinite(lr_max()), UsageError,
              "learning-rate bounds must satisfy 0 < lr_min <= lr_max < inf; got [", lr_min(), ", ", lr_max(), "]");
}

LrAdapter::LrAdapter(torch::optim::Optimizer& base, LrBounds bounds, StepWrapper* through)
    : base_(base), bounds_(bounds), through_(through), groups_(base.param_groups().size()) {
  bounds.validate();
  LMLAB_CHECK(through == nullptr || &through->base() == &base, UsageError,
              "the StepWrapper an lr adapter steps through must wrap the same optimizer");
  for (auto& group : base.param_groups()) {
    double lr = NAN;
    try {
      lr = group.options().get_lr();
    } catch (const c10::Error&) {
    }
    LMLAB_CHECK(std::isfinite(lr) && lr > 0, UsageError, "a learning-rate adapter needs an optimizer whose every "
                "parameter group has a positive learning rate (get_lr()); got ", lr);
  }
}

std::vector<double> LrAdapter::lrs() const {
  std::vector<double> out;
  for (const auto& group : base_.param_groups()) out.push_back(group.options().get_lr());
  return out;
}

double LrAdapter::next_lr(size_t group, double g_g, const Inner& inner) {
  auto& options = base_.param_groups()[group].options();
  LMLAB_CHECK(std::isfinite(g_g), DataError, "the gradient of a parameter of group ", group, " holds NaN or Inf at step ",
              steps_ + 1, " (lr ", options.get_lr(), "); lower the learning rate or its bound lr_max, or clip gradients");
  return std::clamp(adapt(options.get_lr(), inner, groups_[group]), bounds_.lr_min(), bounds_.lr_max());
}

torch::Tensor LrAdapter::step(const std::function<torch::Tensor()>& closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable(true);
    loss = closure();
  }
  auto& groups = base_.param_groups();
  LMLAB_CHECK(groups.size() == groups_.size(), UsageError, "the optimizer gained parameter groups after the "
              "learning-rate adapter was made; make the adapter after the last add_param_group");
  if (through_ == nullptr && MomentumStep::applies(base_)) {
    MomentumStep m(base_);
    fused_step(m);
    ++steps_;
    return loss;
  }
  const double theta = average_theta();
  std::vector<TensorList> params(groups.size()), before(groups.size());
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < groups.size(); ++i) {
      params[i] = with_grad(groups[i]);
      if (params[i].empty()) continue;
      // The parameters before the step, in the buffers of the direction before last when there are.
      TensorList grads, spare = std::move(groups_[i].spare);
      for (size_t j = 0; j < params[i].size(); ++j) {
        const auto p = params[i][j].detach();
        before[i].push_back(j < spare.size() && spare[j].sizes() == p.sizes() ? spare[j].copy_(p) : p.clone());
        grads.push_back(params[i][j].grad().detach());
      }
      const GroupState& state = groups_[i];
      Inner inner;
      if (uses_direction() && !state.direction.empty()) inner.g_direction = global_dot(grads, state.direction);
      if (!state.average.empty()) inner.g_average = global_dot(grads, state.average);
      groups[i].options().set_lr(next_lr(i, global_dot(grads, grads), inner));  // ||g||^2 finite iff every entry is
    }
  }
  if (through_ != nullptr) through_->step();
  else base_.step();
  ++steps_;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (params[i].empty()) continue;
    const double lr = groups[i].options().get_lr();
    TensorList& d = before[i];  // d_t = (theta_before - theta_after) / lr_t, in place
    for (size_t j = 0; j < d.size(); ++j) d[j].sub_(params[i][j].detach()).div_(lr);
    GroupState& state = groups_[i];
    if (theta >= 0) {
      if (state.average.empty())
        for (const auto& t : d) state.average.push_back(torch::zeros_like(t));
      for (size_t j = 0; j < d.size(); ++j) state.average[j].mul_(theta).add_(d[j], 1 - theta);
    }
    state.spare = state.borrowed ? TensorList{} : std::move(state.direction);
    state.direction = std::move(d);
    state.borrowed = false;
  }
  return loss;
}

void LrAdapter::fused_step(MomentumStep& m) {
  const double theta = average_theta();
  std::vector<TensorList> averages;
  for (auto& state : groups_) averages.push_back(std::move(state.average));
  m.update(theta >= 0 ? &averages : nullptr, theta);
  for (size_t i = 0; i < groups_.size(); ++i) {
    GroupState& state = groups_[i];
    const auto& group = m.groups()[i];
    Inner inner;
    if (!state.direction.empty()) inner.g_direction = group.dots.g_buffer_before;  // d_{t-1} = b_{t-1}
    inner.g_average = group.dots.g_average_before;
    state.average = std::move(averages[i]);
    if (group.params.empty()) continue;
    base_.param_groups()[i].options().set_lr(next_lr(i, group.dots.g_g, inner));
    state.direction = group.buffers;  // d_t = b_t: the buffers themselves, which the next step reads
    state.borrowed = true;
    state.spare.clear();
  }
  m.along();
}

void LrAdapter::save(torch::serialize::OutputArchive& archive) const {
  for (size_t i = 0; i < groups_.size(); ++i) {
    const std::string g = "group" + std::to_string(i) + ".";
    archive.write(g + "lr", torch::tensor(base_.param_groups()[i].options().get_lr(), torch::kDouble));
    archive.write(g + "last_change", torch::tensor(groups_[i].last_change, torch::kDouble));
    for (size_t j = 0; j < groups_[i].direction.size(); ++j)
      archive.write(g + "direction." + std::to_string(j), groups_[i].direction[j]);
    for (size_t j = 0; j < groups_[i].average.size(); ++j)
      archive.write(g + "average." + std::to_string(j), groups_[i].average[j]);
  }
}

void LrAdapter::load(torch::serialize::InputArchive& archive) {
  // Everything is read and checked before anything changes: a refused state leaves the adapter as it was.
  const std::string what = "optimizer state";
  std::vector<double> lrs;
  std::vector<GroupState> loaded(groups_.size());
  const std::vector<std::string> keys = archive.keys();
  const auto has = [&keys](const std::string& key) { return std::find(keys.begin(), keys.end(), key) != keys.end(); };
  for (size_t i = 0; i < groups_.size(); ++i) {
    const std::string g = "group" + std::to_string(i) + ".";
    lrs.push_back(read_archive_number(archive, g + "lr", what));  // Optimizer::load keeps the constructor's lr
    LMLAB_CHECK(lrs.back() > 0, DataError, what, ": '", g, "lr' is ", lrs.back(), " but a learning rate is > 0");
    loaded[i].last_change = read_archive_number(archive, g + "last_change", what);
    // d and deltabar hold one tensor per parameter of the group (those with a gradient, in order).
    const auto& params = base_.param_groups()[i].params();
    for (const char* list : {"direction.", "average."}) {
      TensorList& into = list[0] == 'd' ? loaded[i].direction : loaded[i].average;
      for (size_t j = 0; has(g + list + std::to_string(j)); ++j) {
        LMLAB_CHECK(j < params.size(), DataError, what, " holds more '", g, list, "' tensors than the group's ",
                    params.size(), " parameters; it was saved for other parameters");
        into.push_back(read_archive_tensor_like(archive, g + list + std::to_string(j), params[j], what));
      }
    }
  }
  for (size_t i = 0; i < groups_.size(); ++i) {
    base_.param_groups()[i].options().set_lr(lrs[i]);
    groups_[i].last_change = loaded[i].last_change;
    groups_[i].direction = std::move(loaded[i].direction);
    groups_[i].average = std::move(loaded[i].average);
    groups_[i].borrowed = false;
  }
}

}  // namespace lmlab::optim
