// Pluggable attention. A MultiHeadAttention projects x [B,T,C] to q, k, v [B,H,T,D] (C = H*D) with
// layers from a LinearFactory, hands them to an AttentionCore, and projects the core's output
// [B,H,T,D] back to [B,T,C]. Cores are the extension point for P2 (prefix tuning, NTK-Attention:
// a core may own parameters such as Z and k), P3/P5 (sparse and streaming attention).
//
// SoftmaxAttention is the default core (Vaswani et al. 2017, arXiv:1706.03762, eq. 1):
//   A = softmax(q k^T / sqrt(D) + M) [B,H,T,S],  out = A v [B,H,T,D],
// with M = -inf above the diagonal when causal (aligned to the last key, so T < S also works).
// It runs exact_attention (lmlab/models/flash_attention.h): the flash kernel for float32 CPU
// tensors, LibTorch ops otherwise; both are twice differentiable (needed by P6's attacks). While
// recording its map it runs the composed ops, which materialise the map anyway.
// Deviation from GPT-2: no dropout on the attention probabilities.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <torch/torch.h>

#include "lmlab/models/linear.h"

namespace lmlab {

// q [B,H,T,D], k and v [B,H,S,D] -> [B,H,T,D].
class AttentionCore : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k,
                                const torch::Tensor& v, bool causal) = 0;
};

// Builds the core of transformer layer `layer` (0-based) for `heads` heads of size `head_dim`.
using AttentionFactory =
    std::function<std::shared_ptr<AttentionCore>(int64_t layer, int64_t heads, int64_t head_dim)>;

class SoftmaxAttention : public AttentionCore {
 public:
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) override;

  // The attention map softmax(q k^T / sqrt(D) + M) [B,H,T,S] (rows sum to 1).
  static torch::Tensor probabilities(const torch::Tensor& q, const torch::Tensor& k, bool causal);

  // When on, every forward keeps a detached copy of its attention map (for sparsity analysis).
  void record_probabilities(bool on) { record_ = on; }
  bool recording() const { return record_; }
  // The map of the last forward since recording was switched on; undefined before that.
  const torch::Tensor& last_probabilities() const { return last_; }

 private:
  bool record_ = false;
  torch::Tensor last_;
};

// Every layer gets its own SoftmaxAttention.
AttentionFactory default_attention_factory();

struct MultiHeadAttentionOptions {
  MultiHeadAttentionOptions(int64_t width, int64_t heads) : width_(width), heads_(heads) {}
  TORCH_ARG(int64_t, width);  // C, a multiple of heads
  TORCH_ARG(int64_t, heads);  // H
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(LinearFactory, linear) = default_linear_factory();
  TORCH_ARG(std::shared_ptr<AttentionCore>, core) = nullptr;  // nullptr: a new SoftmaxAttention
};

// Submodules: q, k, v, o (factory-made linear layers, C -> C) and core.
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options);

  // x [B,T,C] -> [B,T,C].
  torch::Tensor forward(const torch::Tensor& x, bool causal);

  // q, k, v ~ N(0, std^2), o ~ N(0, out_std^2), biases 0 (see init_linear_gpt2).
  void init_gpt2(double std, double out_std);

  const std::shared_ptr<AttentionCore>& core() const { return core_; }
  const MultiHeadAttentionOptions& options() const { return options_; }

 private:
  MultiHeadAttentionOptions options_;
  torch::nn::AnyModule q_, k_, v_, o_;
  std::shared_ptr<AttentionCore> core_;
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace lmlab
