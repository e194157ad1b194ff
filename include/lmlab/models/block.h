// Pre-norm transformer block shared by GPT (causal) and ViT (bidirectional), as in GPT-2
// (Radford et al. 2019) and ViT (Dosovitskiy et al. 2020, arXiv:2010.11929, eqs. 2-3):
//   x = x + drop(attn(ln1(x)))          x [B,T,C]
//   x = x + drop(mlp(ln2(x)))           mlp: C -> mlp_ratio*C -> C, GELU
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/models/attention.h"
#include "lmlab/models/linear.h"
#include "lmlab/models/mlp.h"

namespace lmlab {

struct TransformerBlockOptions {
  TransformerBlockOptions(int64_t width, int64_t heads) : width_(width), heads_(heads) {}
  TORCH_ARG(int64_t, width);      // C, a multiple of heads
  TORCH_ARG(int64_t, heads);      // H
  TORCH_ARG(int64_t, mlp_ratio) = 4;
  TORCH_ARG(bool, causal) = true;
  TORCH_ARG(double, dropout) = 0.0;  // on both residual branches
  TORCH_ARG(int64_t, layer) = 0;     // index passed to the attention factory
  TORCH_ARG(LinearFactory, linear) = default_linear_factory();
  TORCH_ARG(AttentionFactory, attention) = default_attention_factory();
};

// Submodules: ln1, attn, ln2, mlp, drop.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerBlockOptions& options);

  torch::Tensor forward(const torch::Tensor& x);  // [B,T,C] -> [B,T,C]

  // GPT-2 init for a model of `layers` blocks: linear weights ~ N(0, 0.02^2), the two residual
  // projections (attn.o, the MLP's last layer) ~ N(0, (0.02/sqrt(2*layers))^2), biases 0,
  // LayerNorms 1 and 0. Attention-core parameters keep the core's own initialisation.
  void init_gpt2(int64_t layers);

  const MultiHeadAttention& attention() const { return attn_; }

 private:
  TransformerBlockOptions options_;
  torch::nn::LayerNorm ln1_{nullptr}, ln2_{nullptr};
  MultiHeadAttention attn_{nullptr};
  MLP mlp_{nullptr};
  torch::nn::Dropout drop_{nullptr};
};
TORCH_MODULE(TransformerBlock);

}  // namespace lmlab
