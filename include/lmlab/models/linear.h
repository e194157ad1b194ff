// Pluggable linear layers. Every linear map of MLP, MultiHeadAttention, GPT and ViT is built
// through a LinearFactory, so a later module (1-bit BitLinear for P1, LoRA for P2) swaps in
// without touching model code. The factory is told the layer's role, so it can treat layers apart
// (LoRA adapts the attention projections only) without guessing from shapes.
//
// A factory returns a torch::nn::AnyModule whose forward(const Tensor& x [..., in]) returns
// [..., out]. Models register the returned module under their own name (register_module(name,
// any.ptr())), so parameters(), named_parameters(), to(dtype) and save/load see its tensors.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/torch.h>

namespace lmlab {

// Where a linear layer sits in a model.
enum class LinearRole {
  AttnQ,      // "attn.q": attention query projection C -> C
  AttnK,      // "attn.k"
  AttnV,      // "attn.v"
  AttnO,      // "attn.o": attention output projection
  MlpHidden,  // "mlp.fc": an MLP layer followed by the activation
  MlpOut,     // "mlp.out": an MLP's last layer
  Patch,      // "patch": ViT's patch embedding
  Head,       // "head": a classifier or untied language-model head
};

// "attn.q", "attn.k", ... as listed above.
const char* linear_role_name(LinearRole role);
// True for AttnQ, AttnK, AttnV and AttnO.
bool is_attention_projection(LinearRole role);

using LinearFactory = std::function<torch::nn::AnyModule(int64_t in, int64_t out, bool bias, LinearRole role)>;

// torch::nn::Linear(in, out, bias) with LibTorch's default (Kaiming-uniform) initialisation, for
// every role.
LinearFactory default_linear_factory();

// Calls `factory` and checks that it returned a module (UsageError otherwise).
torch::nn::AnyModule make_linear(const LinearFactory& factory, int64_t in, int64_t out, bool bias,
                                 LinearRole role);

// GPT-2 initialisation of one factory-made layer: its own 2-D "weight" ~ N(0, std^2) and its own
// "bias" = 0. Other tensors (LoRA's A and B, a 1-bit layer's scale) keep the factory's own init.
void init_linear_gpt2(torch::nn::Module& layer, double std);

}  // namespace lmlab
