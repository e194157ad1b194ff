// LibTorch's torch::optim base optimizers against torch.optim 1.13 step for step
// (tools/golden/optim_base.py -> tests/golden/optim_base.{json,bin}): SGD with momentum, dampening,
// Nesterov and weight decay, Adagrad with lr decay, weight decay and an initial accumulator, Adam
// and AdamW with betas, eps, weight decay and amsgrad; 100 float64 steps on a quadratic, logistic
// regression and Rosenbrock. The same LibTorch kernels run on both sides, so the trajectories
// agree to rounding: within 1e-10 relative to max(1, |x|) at every step.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "support/golden.h"

namespace {

using nlohmann::json;
using test_support::Golden;

std::unique_ptr<torch::optim::Optimizer> make(const std::string& name, const torch::Tensor& x, double lr,
                                              const json& o) {
  const std::vector<torch::Tensor> params{x};
  const auto get = [&](const char* key, double fallback) { return o.contains(key) ? o[key].get<double>() : fallback; };
  const auto flag = [&](const char* key) { return o.contains(key) && o[key].get<bool>(); };
  if (name == "sgd")
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr)
                                                          .momentum(get("momentum", 0))
                                                          .dampening(get("dampening", 0))
                                                          .weight_decay(get("weight_decay", 0))
                                                          .nesterov(flag("nesterov")));
  if (name == "adagrad")
    return std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(lr)
                                                              .lr_decay(get("lr_decay", 0))
                                                              .weight_decay(get("weight_decay", 0))
                                                              .initial_accumulator_value(get("initial_accumulator_value", 0))
                                                              .eps(get("eps", 1e-10)));
  std::tuple<double, double> betas{0.9, 0.999};
  if (o.contains("betas")) betas = {o["betas"][0].get<double>(), o["betas"][1].get<double>()};
  if (name == "adam")
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr)
                                                           .betas(betas)
                                                           .eps(get("eps", 1e-8))
                                                           .weight_decay(get("weight_decay", 0))
                                                           .amsgrad(flag("amsgrad")));
  EXPECT_EQ(name, "adamw");
  return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(lr)
                                                          .betas(betas)
                                                          .eps(get("eps", 1e-8))
                                                          .weight_decay(get("weight_decay", 0.01))
                                                          .amsgrad(flag("amsgrad")));
}

std::function<torch::Tensor(const torch::Tensor&)> loss_of(const std::string& problem, const Golden& g) {
  if (problem == "quadratic") {
    const auto a = g.tensors.at("quadratic.A"), b = g.tensors.at("quadratic.b");
    return [a, b](const torch::Tensor& x) { return 0.5 * x.dot(a.mv(x)) - b.dot(x); };
  }
  if (problem == "logistic") {
    const auto xs = g.tensors.at("logistic.X"), y = g.tensors.at("logistic.y");
    return [xs, y](const torch::Tensor& w) { return torch::nn::functional::softplus(-y * xs.mv(w)).mean(); };
  }
  EXPECT_EQ(problem, "rosenbrock");
  return [](const torch::Tensor& x) { return (1 - x[0]).pow(2) + 100 * (x[1] - x[0].pow(2)).pow(2); };
}

TEST(BaseOptimizers, MatchTorchOptimStepForStep) {
  const Golden golden = test_support::read_golden("optim_base");
  const json& runs = golden.config["runs"];
  ASSERT_GE(runs.size(), 30u);
  for (const json& run : runs) {
    const std::string problem = run["problem"], name = run["optimizer"];
    const auto want = golden.tensors.at(run["tensor"].get<std::string>());
    auto x = golden.tensors.at(problem + ".x0").clone().requires_grad_();
    auto optimizer = make(name, x, run["lr"].get<double>(), run["options"]);
    const auto loss = loss_of(problem, golden);
    double worst = 0;
    for (int64_t step = 1; step < want.size(0); ++step) {
      optimizer->zero_grad();
      loss(x).backward();
      optimizer->step();
      const auto ref = want[step];
      worst = std::max(worst, ((x.detach() - ref).abs() / ref.abs().clamp_min(1)).max().item<double>());
    }
    EXPECT_LT(worst, 1e-10) << name << " " << run["options"].dump() << " on " << problem;
  }
}

}  // namespace
