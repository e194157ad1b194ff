// Prefix attention as in P-Tuning v2 (Liu et al. 2022, arXiv:2110.07602; prefix tuning, Li & Liang
// 2021, arXiv:2101.00190): each layer owns m learnable key and value vectors per head, prepended to
// the input's keys and values; queries are the input's only.
//
// Shapes: q [B,H,T,D], k and v [B,H,T,D]; prefix keys and values [H,m,D] expanded over the batch;
// out = softmax(q [P_k; k]^T / sqrt(D) + M) [P_v; v]  [B,H,T,D], S = m + T keys. The causal mask
// applies to the input keys only: query i sees every prefix key and input keys 0..i (exactly the
// exact-attention mask aligned to the last key, so the flash kernel runs it).
// Cost O(T (m + T) D) per head: it grows with m, which NTK-Attention removes.
// Reparameterisation (P-Tuning v2's / PEFT's prefix_projection): the prefix is
// MLP(E), E [m, C] an embedding, MLP = Linear(C, hidden) -> tanh -> Linear(hidden, 2C), C = H*D.
// Deviation from PEFT: one MLP per layer (PEFT shares one across layers and emits all layers at once).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/models/attention.h"

namespace lmlab::ntk_attention {

struct PrefixAttentionOptions {
  explicit PrefixAttentionOptions(int64_t length) : length_(length) {}
  TORCH_ARG(int64_t, length);              // m >= 1
  TORCH_ARG(bool, reparameterize) = false;  // through the MLP above
  TORCH_ARG(int64_t, hidden) = 512;         // the MLP's hidden width
  TORCH_ARG(double, init_std) = 1.0;        // prefix vectors (or E) ~ N(0, std^2), as nn.Embedding
};

// Parameters: "prefix_keys", "prefix_values" [H,m,D]; or, reparameterised, "embedding" [m,C] and
// "mlp" (its two layers).
class PrefixAttention : public AttentionCore {
 public:
  PrefixAttention(int64_t heads, int64_t head_dim, const PrefixAttentionOptions& options);
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) override;
  // The current prefix: keys and values [H,m,D].
  std::pair<torch::Tensor, torch::Tensor> prefix();

 private:
  int64_t heads_, head_dim_;
  PrefixAttentionOptions options_;
  torch::Tensor keys_, values_, embedding_;
  torch::nn::Sequential mlp_{nullptr};
};

// Every layer gets its own PrefixAttention.
AttentionFactory prefix_attention_factory(const PrefixAttentionOptions& options);

}  // namespace lmlab::ntk_attention
