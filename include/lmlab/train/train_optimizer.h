// What a trainer asks of an optimizer: clear the gradients, take a step, and take the learning
// rate its schedule sets. LMTrainer holds one; the default is AdamW (make_adamw). The optim area's
// PluggedOptimizer (lmlab/optim/plugged_optimizer.h) is another: any torch::optim base with P4's
// step plug-ins and P8's learning-rate adapters, chosen by the optim.* config keys.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace lmlab {

class TrainOptimizer {
 public:
  virtual ~TrainOptimizer() = default;
  virtual void zero_grad() = 0;
  virtual void step() = 0;
  // Sets every parameter group's learning rate (a schedule's value for the coming step).
  virtual void set_lr(double lr) = 0;
  // True when the optimizer sets its own learning rate each step (an lr adapter): a trainer then
  // applies no schedule.
  virtual bool adapts_lr() const { return false; }
};

// Builds the optimizer over a model's parameters.
using TrainOptimizerFactory =
    std::function<std::unique_ptr<TrainOptimizer>(const std::vector<torch::Tensor>& params)>;

// AdamW(lr, weight_decay) with torch::optim::AdamW's defaults and float32 arithmetic, as a
// TrainOptimizer: one fused SIMD pass a parameter slice for float32 CPU parameters (LibTorch's
// AdamW for others). zero_grad drops the gradients (they become undefined), as set_to_none does.
std::unique_ptr<TrainOptimizer> make_adamw(const std::vector<torch::Tensor>& params, double lr, double weight_decay);

// Sets the learning rate of every group of `optimizer` (whatever its options type).
void set_group_lrs(torch::optim::Optimizer& optimizer, double lr);

}  // namespace lmlab
