// DLG (include/lmlab/privacy/dlg.h).
#include "lmlab/privacy/dlg.h"

#include <cmath>

#include "attack_loop.h"
#include "lmlab/core/error.h"

namespace lmlab::privacy {

void DlgOptions::validate() const {
  LMLAB_CHECK(iterations_ >= 1, UsageError, "DLG iterations must be >= 1; got ", iterations_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "DLG lr must be finite and > 0; got ", lr_);
  LMLAB_CHECK(history_ >= 1, UsageError, "DLG L-BFGS history must be >= 1; got ", history_);
  LMLAB_CHECK(inner_iterations_ >= 1, UsageError, "DLG inner_iterations must be >= 1; got ", inner_iterations_);
}

AttackResult dlg(const Victim& victim, const TensorList& target, const AttackSetup& setup, const DlgOptions& options) {
  options.validate();
  setup.validate(victim, target);
  detail::Dummies d = detail::make_dummies(setup);
  const TensorList params = d.trainable();
  auto lbfgs_options =
      torch::optim::LBFGSOptions(options.lr()).history_size(options.history()).max_iter(options.inner_iterations());
  if (options.strong_wolfe()) lbfgs_options.line_search_fn("strong_wolfe");
  torch::optim::LBFGS lbfgs(params, lbfgs_options);
  std::vector<double> history;
  bool finite = true;
  const auto closure = [&] {
    const auto objective = detail::matching_objective(victim, target, d, GradientDistance::SquaredL2, 0, 0);
    const auto grads = torch::autograd::grad({objective}, params);
    for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i];
    if (!std::isfinite(objective.item<double>())) finite = false;
    return objective.detach();
  };
  for (int64_t step = 0; step < options.iterations(); ++step) {
    TensorList saved;
    for (const auto& p : params) saved.push_back(p.detach().clone());
    const double value = lbfgs.step(closure).item<double>();
    if (!finite || !std::isfinite(value) || !torch::isfinite(d.inputs).all().item<bool>()) {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
      return detail::finish(d, std::move(history), true);
    }
    history.push_back(value);
  }
  return detail::finish(d, std::move(history), false);
}

}  // namespace lmlab::privacy
