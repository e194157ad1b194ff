// The trainers' optimizer interface and its default, AdamW (include/lmlab/train/train_optimizer.h).
#include "lmlab/train/train_optimizer.h"

#include <cmath>

#include <ATen/Parallel.h>

#include "lmlab/core/error.h"
#include "lmlab/kernels/optim_step.h"

namespace lmlab {
namespace {

// torch::optim::AdamW's defaults.
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
// Elements per slice of a parameter's update: a slice's four arrays fit in L2.
constexpr int64_t kSlice = 16384;

// AdamW as torch::optim::AdamW computes it (torch 1.13, no amsgrad), one fused pass a slice
// (lmlab/kernels/optim_step.h, adamw_update) instead of seven LibTorch operations a parameter.
// Each parameter keeps its own step count, as LibTorch's state does. zero_grad drops the gradients
// instead of zeroing them, so backward writes fresh ones without an accumulate.
class FusedAdamW : public TrainOptimizer {
 public:
  FusedAdamW(const std::vector<torch::Tensor>& params, double lr, double weight_decay)
      : params_(params), lr_(lr), weight_decay_(weight_decay), steps_(params.size(), 0) {
    for (const torch::Tensor& p : params) {
      exp_avg_.push_back(torch::zeros_like(p));
      exp_avg_sq_.push_back(torch::zeros_like(p));
    }
  }
  void zero_grad() override {
    for (torch::Tensor& p : params_) p.mutable_grad().reset();
  }
  void step() override {
    torch::NoGradGuard no_grad;
    const auto& kernels = kernels::optim_kernels();
    for (size_t i = 0; i < params_.size(); ++i) {
      const torch::Tensor grad = params_[i].grad();
      if (!grad.defined()) continue;
      const torch::Tensor g = grad.contiguous();
      const int64_t t = ++steps_[i];
      kernels::AdamWUpdateArgs a{params_[i].data_ptr<float>(), g.data_ptr<float>(), exp_avg_[i].data_ptr<float>(),
                                 exp_avg_sq_[i].data_ptr<float>(), 0, float(1 - lr_ * weight_decay_), float(kBeta1),
                                 float(1 - kBeta1), float(kBeta2), float(1 - kBeta2),
                                 float(std::sqrt(1 - std::pow(kBeta2, t))), float(kEps),
                                 float(-lr_ / (1 - std::pow(kBeta1, t)))};
      at::parallel_for(0, g.numel(), kSlice, [&](int64_t begin, int64_t end) {
        kernels::AdamWUpdateArgs slice = a;
        slice.param += begin, slice.grad += begin, slice.exp_avg += begin, slice.exp_avg_sq += begin;
        slice.n = end - begin;
        kernels.adamw_update(slice);
      });
    }
  }
  void set_lr(double lr) override { lr_ = lr; }

 private:
  std::vector<torch::Tensor> params_, exp_avg_, exp_avg_sq_;
  double lr_, weight_decay_;
  std::vector<int64_t> steps_;
};

// LibTorch's AdamW, for parameters the fused pass does not take (not float32, not contiguous).
class TorchAdamW : public TrainOptimizer {
 public:
  TorchAdamW(const std::vector<torch::Tensor>& params, double lr, double weight_decay)
      : optimizer_(params, torch::optim::AdamWOptions(lr).weight_decay(weight_decay)) {}
  void zero_grad() override { optimizer_.zero_grad(); }
  void step() override { optimizer_.step(); }
  void set_lr(double lr) override { set_group_lrs(optimizer_, lr); }

 private:
  torch::optim::AdamW optimizer_;
};

}  // namespace

std::unique_ptr<TrainOptimizer> make_adamw(const std::vector<torch::Tensor>& params, double lr, double weight_decay) {
  LMLAB_CHECK(std::isfinite(lr) && lr >= 0, UsageError, "AdamW's learning rate must be finite and >= 0; got ", lr);
  LMLAB_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, UsageError,
              "AdamW's weight decay must be finite and >= 0; got ", weight_decay);
  for (const torch::Tensor& p : params)
    if (p.scalar_type() != torch::kFloat || !p.device().is_cpu() || !p.is_contiguous())
      return std::make_unique<TorchAdamW>(params, lr, weight_decay);
  return std::make_unique<FusedAdamW>(params, lr, weight_decay);
}

void set_group_lrs(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace lmlab
