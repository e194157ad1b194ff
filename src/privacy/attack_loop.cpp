// Shared attack pieces (src/privacy/attack_loop.h).
#include "attack_loop.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::privacy::detail {

torch::Tensor Dummies::labels() const {
  if (known_labels.defined()) return known_labels;
  return label_map ? label_map(inputs, label_logits) : label_logits;
}

TensorList Dummies::trainable() const {
  TensorList t{inputs};
  if (label_logits.defined()) t.push_back(label_logits);
  return t;
}

Dummies make_dummies(const AttackSetup& setup) {
  torch::Generator gen = make_generator(setup.seed());
  Dummies d;
  d.label_map = setup.label_map();
  d.inputs = (setup.init_std() * torch::randn(setup.input_shape(), gen, torch::kFloat)).requires_grad_();
  if (setup.labels().defined())
    d.known_labels = setup.labels();
  else
    d.label_logits = torch::randn(setup.label_shape(), gen, torch::kFloat).requires_grad_();
  return d;
}

torch::Tensor total_variation(const torch::Tensor& x) {
  using torch::indexing::Slice;
  const auto dx = x.index({Slice(), Slice(), Slice(), Slice(1, torch::indexing::None)}) -
                  x.index({Slice(), Slice(), Slice(), Slice(0, -1)});
  const auto dy = x.index({Slice(), Slice(), Slice(1, torch::indexing::None), Slice()}) -
                  x.index({Slice(), Slice(), Slice(0, -1), Slice()});
  return dx.abs().mean() + dy.abs().mean();
}

torch::Tensor matching_objective(const Victim& victim, const TensorList& target, const Dummies& d,
                                 GradientDistance distance, double alpha, double tv_weight) {
  auto objective =
      gradient_distance(victim_gradients(victim, d.inputs, d.labels(), /*create_graph=*/true), target, distance, alpha);
  if (tv_weight > 0 && d.inputs.dim() == 4) objective = objective + tv_weight * total_variation(d.inputs);
  return objective;
}

AttackResult finish(const Dummies& d, std::vector<double> history, bool diverged) {
  AttackResult r;
  r.inputs = d.inputs.detach().clone();
  if (d.known_labels.defined()) {
    r.labels = d.known_labels;
  } else {
    torch::NoGradGuard no_grad;
    r.label_logits = d.labels().detach().clone();
    r.labels = r.label_logits.argmax(-1);
  }
  r.loss_history = std::move(history);
  r.diverged = diverged;
  return r;
}

AttackResult run_adam(const Victim& victim, const TensorList& target, const AttackSetup& setup, const AdamLoop& loop) {
  setup.validate(victim, target);
  Dummies d = make_dummies(setup);
  const TensorList params = d.trainable();
  torch::optim::Adam adam(params, torch::optim::AdamOptions(loop.lr));
  const int64_t n = loop.iterations;
  const std::vector<int64_t> milestones{n * 3 / 8, n * 5 / 8, n * 7 / 8};
  std::vector<double> history;
  TensorList last_finite;
  for (int64_t it = 0; it < n; ++it) {
    for (const int64_t m : milestones)
      if (it == m && m > 0)
        for (auto& group : adam.param_groups()) group.options().set_lr(group.options().get_lr() * 0.1);
    const auto objective = matching_objective(victim, target, d, loop.distance, loop.alpha, loop.tv_weight);
    const double value = objective.item<double>();
    if (!std::isfinite(value)) {
      if (!last_finite.empty()) {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i) params[i].copy_(last_finite[i]);
      }
      return finish(d, std::move(history), true);
    }
    history.push_back(value);
    last_finite.clear();
    for (const auto& p : params) last_finite.push_back(p.detach().clone());
    auto grads = torch::autograd::grad({objective}, params);
    for (size_t i = 0; i < params.size(); ++i) {
      auto g = loop.signed_gradients ? grads[i].sign() : grads[i];
      if (loop.clip_norm > 0) {
        const double norm = g.norm().item<double>();
        if (norm > loop.clip_norm) g = g * (loop.clip_norm / norm);
      }
      params[i].mutable_grad() = g;
    }
    adam.step();
    if (loop.box) {
      torch::NoGradGuard no_grad;
      d.inputs.clamp_(loop.box->first, loop.box->second);
    }
  }
  return finish(d, std::move(history), false);
}

}  // namespace lmlab::privacy::detail
