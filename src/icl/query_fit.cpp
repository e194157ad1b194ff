// The fitting loop of RICL and prompt tuning (src/icl/query_fit.h).
#include "icl/query_fit.h"

#include <algorithm>
#include <cmath>

#include "icl/divergence.h"
#include "lmlab/core/seed.h"

namespace lmlab::icl::detail {

QueryFit fit_query_loss(const std::vector<torch::Tensor>& parameters, const torch::Tensor& xs, const torch::Tensor& ys,
                        int64_t steps, double lr, int64_t batch, uint64_t seed, const std::string& what,
                        const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& loss) {
  const int64_t b = xs.size(0);
  const int64_t per_step = batch == 0 ? b : std::min(batch, b);
  torch::optim::Adam adam(parameters, torch::optim::AdamOptions(lr));
  torch::Generator gen = make_generator(seed);
  QueryFit out;
  for (int64_t step = 0; step < steps; ++step) {
    auto bx = xs, by = ys;
    if (per_step < b) {
      const auto idx = torch::randperm(b, gen, torch::TensorOptions().dtype(torch::kLong)).narrow(0, 0, per_step);
      bx = xs.index_select(0, idx), by = ys.index_select(0, idx);
    }
    const auto value = guard_divergence(what, step, lr, [&] { return loss(bx, by); });
    const double v = value.item<double>();
    if (!std::isfinite(v)) throw diverged(what, step, "loss " + std::to_string(v), lr);
    guard_divergence(what, step, lr, [&] {
      adam.zero_grad();
      // gradients of the fitted parameters only: a frozen model's own parameters get none
      torch::autograd::backward({value}, {}, c10::nullopt, false, parameters);
      adam.step();
      return 0;
    });
    for (const auto& p : parameters)
      if (!torch::isfinite(p).all().item<bool>()) throw diverged(what, step, "non-finite parameters", lr);
    out.losses.push_back(v);
    out.prompt_passes += per_step;
  }
  return out;
}

}  // namespace lmlab::icl::detail
