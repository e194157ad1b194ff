// A torch::optim base optimizer chosen by name, with P4's step plug-in (Reject or Random Vector
// Accelerating, arXiv 2402.01515) and P8's learning-rate adapter (delta-bar-delta, RDBD or
// hypergradient descent, arXiv 2310.11291) on top: what the optim.* config keys of the training
// experiments describe, as a TrainOptimizer any lmlab trainer takes.
//
// Step order: the adapter sets each group's lr from the current gradient, the base optimizer
// steps, the plug-in replaces the base step by its own (RejectAccelerating, RandomVectorAccelerating
// over the step it observed). Bases: sgd (momentum, dampening 0, Nesterov, weight decay), adagrad,
// adam, adamw: LibTorch's own, which match torch.optim 1.13 step for step (tests/optim golden).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/optim/delta_bar_delta.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/lr_adapter.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/step_wrapper.h"
#include "lmlab/train/train_optimizer.h"

namespace lmlab::optim {

struct PluggedOptimizerOptions {
  // UsageError naming the first value out of range and its valid range (the chosen adapter's too).
  void validate() const;
  TORCH_ARG(std::string, name) = "adamw";  // sgd | adagrad | adam | adamw
  TORCH_ARG(double, lr) = 1e-3;            // > 0; an adapter's starting lr
  TORCH_ARG(double, weight_decay) = 0.0;   // >= 0 (adamw: decoupled; others: L2 added to the gradient)
  TORCH_ARG(double, momentum) = 0.0;       // sgd, in [0, 1)
  TORCH_ARG(bool, nesterov) = false;       // sgd, needs momentum > 0
  TORCH_ARG(double, beta1) = 0.9;          // adam, adamw: in [0, 1)
  TORCH_ARG(double, beta2) = 0.999;        // adam, adamw: in [0, 1)
  TORCH_ARG(double, eps) = 1e-8;           // adam, adamw: > 0 (adagrad keeps LibTorch's 1e-10)
  TORCH_ARG(std::string, accel) = "none";  // none | reject | rva
  TORCH_ARG(RandomVectorAcceleratingOptions, rva) = RandomVectorAcceleratingOptions();
  TORCH_ARG(std::string, lr_adapter) = "none";  // none | dbd | rdbd | hd
  TORCH_ARG(DeltaBarDeltaOptions, dbd) = DeltaBarDeltaOptions();  // dbd and rdbd (its bounds too)
  TORCH_ARG(HypergradientOptions, hd) = HypergradientOptions();

};

// The base optimizer alone (no plug-in, no adapter) over `params`.
std::unique_ptr<torch::optim::Optimizer> make_base_optimizer(const std::vector<torch::Tensor>& params,
                                                            const PluggedOptimizerOptions& options);

class PluggedOptimizer : public TrainOptimizer {
 public:
  // Validates `options`, then builds the base, the plug-in and the adapter over `params`.
  PluggedOptimizer(const std::vector<torch::Tensor>& params, PluggedOptimizerOptions options);

  void zero_grad() override { base_->zero_grad(); }
  void step() override;
  void set_lr(double lr) override { set_group_lrs(*base_, lr); }
  bool adapts_lr() const override { return adapter_ != nullptr; }

  torch::optim::Optimizer& base() { return *base_; }
  // The step plug-in (RejectAccelerating, RandomVectorAccelerating), or null.
  const StepWrapper* plugin() const { return plugin_.get(); }
  const PluggedOptimizerOptions& options() const { return options_; }
  // The learning rate of the first parameter group (an adapter's current value).
  double lr() const;

  // The base optimizer's state with the plug-in's and the adapter's: resuming from it gives the
  // same trajectory.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  PluggedOptimizerOptions options_;
  std::unique_ptr<torch::optim::Optimizer> base_;
  std::unique_ptr<StepWrapper> plugin_;
  std::unique_ptr<LrAdapter> adapter_;
};

// A TrainOptimizerFactory building PluggedOptimizer(params, options); validates the options when
// called, so a bad value fails before training starts.
TrainOptimizerFactory plugged_optimizer_factory(PluggedOptimizerOptions options);

}  // namespace lmlab::optim
