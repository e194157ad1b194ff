// LoRA (Hu et al. 2021, arXiv:2106.09685, eq. 3): a frozen linear map plus a trainable low-rank
// update, h = W x + b + (alpha / r) B A x, A [r, in], B [out, r]; B = 0 at initialisation, so the
// adapted model starts as the backbone; A ~ Kaiming-uniform(a = sqrt 5) as in PEFT.
// Shapes: x [..., in] -> [..., out].
// Parameters "weight" [out, in] and "bias" [out] (named as torch::nn::Linear's, so a backbone's
// weights copy in by name, lmlab/ntk_attention/adapters.h), "lora_A", "lora_B". Freezing W and b is the
// caller's choice (train_adapters_only). lora_linear_factory applies LoRA to the layers of the roles
// in LoraOptions::roles (by default the attention projections q, k, v, o, as the LoRA paper's
// experiments and PEFT's target_modules do) and builds the others as plain torch::nn::Linear.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/models/linear.h"

namespace lmlab::ntk_attention {

struct LoraOptions {
  explicit LoraOptions(int64_t rank) : rank_(rank) {}
  TORCH_ARG(int64_t, rank);        // r >= 1
  TORCH_ARG(double, alpha) = 16.0;  // scaling alpha / r
  // The layers lora_linear_factory adapts (lmlab/models/linear.h).
  TORCH_ARG(std::vector<LinearRole>, roles) = std::vector<LinearRole>{LinearRole::AttnQ, LinearRole::AttnK,
                                                                       LinearRole::AttnV, LinearRole::AttnO};
};

class LoraLinearImpl : public torch::nn::Module {
 public:
  LoraLinearImpl(int64_t in, int64_t out, bool bias, const LoraOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  double scaling() const { return scaling_; }

 private:
  torch::Tensor weight_, bias_, a_, b_;
  double scaling_;
};
TORCH_MODULE(LoraLinear);

// LoraLinear for the layers of options.roles, torch::nn::Linear for the others.
LinearFactory lora_linear_factory(const LoraOptions& options);

}  // namespace lmlab::ntk_attention
