// Parameter-efficient fine-tuning bookkeeping for P2's comparisons (full fine-tuning, LoRA,
// P-Tuning v2, NTK-Attention): copy a pretrained backbone into an adapted model by parameter name,
// then train only the adapter tensors (and whatever else the caller names, e.g. a new head).
// Builds on lmlab/models/parameters.h (set_trainable, count_*_parameters).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab::ntk_attention {

// True for the tensors the adapters of lmlab/ntk_attention add: LoRA's "lora_A"/"lora_B", prefix
// attention's "prefix_keys"/"prefix_values"/"embedding"/"mlp.*" and NTK-Attention's "Z"/"k", all
// under an attention core ("...core.") or a LoRA layer.
bool is_adapter_parameter(const std::string& name);

// requires_grad = is_adapter_parameter(name) or name starts with one of `also`; returns the number
// of trainable scalars. UsageError if nothing would be trained.
int64_t train_adapters_only(torch::nn::Module& module, const std::vector<std::string>& also = {});

// Copies every parameter and buffer of `from` into the same-named tensor of `to` (no grad), except
// names starting with one of `skip` (e.g. "head." for a new task's classifier); returns how many
// were copied. DataError if a shared name differs in shape; names only one side has are skipped
// (the adapters).
int64_t copy_matching_parameters(const torch::nn::Module& from, torch::nn::Module& to,
                                 const std::vector<std::string>& skip = {});

}  // namespace lmlab::ntk_attention
