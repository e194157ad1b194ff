// Tiny ViT for small single-channel images (Dosovitskiy et al. 2020, arXiv:2010.11929, eqs. 1-4).
// images [B,Ch,S,S] -> logits [B,K]:
//   patches [B,N,Ch*P*P], N = (S/P)^2, flattened in (channel, row, column) order
//   z = [cls; patches W_patch] + pos   [B,N+1,C]   (W_patch a factory-made linear, so 1-bit or
//                                                   LoRA layers can replace it)
//   h = blocks(drop(z)), pre-norm, bidirectional (TransformerBlock)
//   logits = head(ln_f(h)[:, 0])       [B,K]
// Initialisation: GPT-2 style as in gpt.h (cls and pos ~ N(0, 0.02^2)).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/models/attention.h"
#include "lmlab/models/block.h"
#include "lmlab/models/linear.h"

namespace lmlab {

struct ViTOptions {
  TORCH_ARG(int64_t, image) = 28;    // S, square images
  TORCH_ARG(int64_t, channels) = 1;  // Ch
  TORCH_ARG(int64_t, patch) = 7;     // P, must divide S
  TORCH_ARG(int64_t, classes) = 10;  // K
  TORCH_ARG(int64_t, layers) = 4;
  TORCH_ARG(int64_t, heads) = 4;     // H
  TORCH_ARG(int64_t, width) = 64;    // C, a multiple of heads
  TORCH_ARG(int64_t, mlp_ratio) = 4;
  TORCH_ARG(double, dropout) = 0.0;  // on embeddings and residual branches, in [0, 1)
  TORCH_ARG(LinearFactory, linear) = default_linear_factory();
  TORCH_ARG(AttentionFactory, attention) = default_attention_factory();
};

// Parameters and submodules: cls [1,1,C], pos [1,N+1,C], patch, drop, blocks, ln_f, head.
class ViTImpl : public torch::nn::Module {
 public:
  explicit ViTImpl(const ViTOptions& options = {});

  // images [B,Ch,S,S] floating point -> logits [B,K].
  torch::Tensor forward(const torch::Tensor& images);

  const TransformerBlock& block(int64_t layer) const;
  const ViTOptions& options() const { return options_; }

 private:
  ViTOptions options_;
  torch::Tensor cls_, pos_;
  torch::nn::AnyModule patch_, head_;
  torch::nn::Dropout drop_{nullptr};
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm ln_f_{nullptr};
};
TORCH_MODULE(ViT);

}  // namespace lmlab
