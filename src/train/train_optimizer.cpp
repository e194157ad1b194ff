// The trainers' optimizer interface and its default, AdamW (include/lmlab/train/train_optimizer.h).
#include "lmlab/train/train_optimizer.h"

namespace lmlab {
namespace {

class AdamWOptimizer : public TrainOptimizer {
 public:
  AdamWOptimizer(const std::vector<torch::Tensor>& params, double lr, double weight_decay)
      : optimizer_(params, torch::optim::AdamWOptions(lr).weight_decay(weight_decay)) {}
  void zero_grad() override { optimizer_.zero_grad(); }
  void step() override { optimizer_.step(); }
  void set_lr(double lr) override { set_group_lrs(optimizer_, lr); }

 private:
  torch::optim::AdamW optimizer_;
};

}  // namespace

std::unique_ptr<TrainOptimizer> make_adamw(const std::vector<torch::Tensor>& params, double lr, double weight_decay) {
  return std::make_unique<AdamWOptimizer>(params, lr, weight_decay);
}

void set_group_lrs(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace lmlab
