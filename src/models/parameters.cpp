// Parameter bookkeeping (include/lmlab/models/parameters.h).
#include "lmlab/models/parameters.h"

#include <cstdio>

#include "lmlab/core/env.h"

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

void check_model_memory(const std::string& model, double parameters, const std::string& fix) {
  constexpr double kBytesPerTrainedParameter = 16;
  char count[32];
  std::snprintf(count, sizeof count, "%.3g", parameters);
  check_memory("training a " + model + " of " + count + " parameters", kBytesPerTrainedParameter * parameters, fix);
}

}  // namespace lmlab
