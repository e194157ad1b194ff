// Parameter bookkeeping for fine-tuning (P2's prefix / LoRA / NTK-Attention runs train a few
// tensors of a frozen backbone): freeze by name, count what is trained.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <torch/torch.h>

namespace lmlab {

// Sets requires_grad = trainable(name) for every parameter of `module` (names as in
// named_parameters(), e.g. "blocks.0.attn.core.Z"); returns the number of trainable scalars.
int64_t set_trainable(torch::nn::Module& module,
                      const std::function<bool(const std::string& name)>& trainable);

int64_t count_parameters(const torch::nn::Module& module);

// Refuses (check_memory, lmlab/core/env.h) a model of about `parameters` float32 scalars whose
// training would not fit: 16 bytes each (weight, gradient and Adam's two moments). `fix` names the
// options to lower. Models call it before allocating anything.
void check_model_memory(const std::string& model, double parameters, const std::string& fix);
int64_t count_trainable_parameters(const torch::nn::Module& module);

}  // namespace lmlab
