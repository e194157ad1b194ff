// Parameter bookkeeping (include/lmlab/models/parameters.h).
#include "lmlab/models/parameters.h"

namespace lmlab {

int64_t set_trainable(torch::nn::Module& module,
                      const std::function<bool(const std::string& name)>& trainable) {
  for (auto& p : module.named_parameters()) p.value().set_requires_grad(trainable(p.key()));
  return count_trainable_parameters(module);
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

int64_t count_trainable_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace lmlab
