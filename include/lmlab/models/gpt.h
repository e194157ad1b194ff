// Tiny GPT: a causal byte-level language model in the GPT-2 layout (Radford et al. 2019; as in
// nanoGPT). idx [B,T] int64 in [0,V) -> logits [B,T,V]:
//   e = wte[idx] + wpe[0..T)          [B,T,C]   (token + learned positional embeddings)
//   h = blocks(drop(e)), pre-norm, causal        (TransformerBlock)
//   logits = ln_f(h) W_head^T         [B,T,V]   (W_head = wte when tied, else a factory-made linear)
// Initialisation as GPT-2: embeddings and linear weights ~ N(0, 0.02^2), residual projections
// ~ N(0, (0.02/sqrt(2*layers))^2), biases 0; deterministic under torch::manual_seed.
// Deviations from GPT-2: exact (erf) GELU; no dropout on attention probabilities; the tied head
// has no bias and an untied head is built without bias too.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/models/attention.h"
#include "lmlab/models/block.h"
#include "lmlab/models/linear.h"

namespace lmlab {

struct GPTOptions {
  TORCH_ARG(int64_t, vocab) = 256;   // V (bytes)
  TORCH_ARG(int64_t, context) = 128; // longest T
  TORCH_ARG(int64_t, layers) = 4;
  TORCH_ARG(int64_t, heads) = 4;     // H
  TORCH_ARG(int64_t, width) = 128;   // C, a multiple of heads; D = C/H
  TORCH_ARG(int64_t, mlp_ratio) = 4;
  TORCH_ARG(bool, tied_head) = true;  // head weight shared with wte
  TORCH_ARG(double, dropout) = 0.0;  // on embeddings and residual branches, in [0, 1)
  TORCH_ARG(LinearFactory, linear) = default_linear_factory();
  TORCH_ARG(AttentionFactory, attention) = default_attention_factory();
};

// Submodules: wte, wpe (Embedding), drop, blocks (ModuleList of TransformerBlock), ln_f, and
// head when untied. Every parameter name is stable: it is the save/load and golden-test key.
class GPTImpl : public torch::nn::Module {
 public:
  explicit GPTImpl(const GPTOptions& options = {});

  // idx [B,T] int64 -> logits [B,T,V]. UsageError if T > context or a token is outside [0,V).
  torch::Tensor forward(const torch::Tensor& idx);

  // The three stages of forward, for callers that work on embeddings (P6 text attacks, P9 example
  // weights): token embeddings idx [B,T] -> [B,T,C]; hidden states (positions added, blocks,
  // ln_f) [B,T,C] -> [B,T,C]; logits from token embeddings [B,T,C] -> [B,T,V].
  torch::Tensor embed(const torch::Tensor& idx);
  torch::Tensor hidden(const torch::Tensor& embeddings);
  torch::Tensor forward_embeddings(const torch::Tensor& embeddings);

  // Appends n_new sampled tokens to prompt [B,T0] -> [B,T0+n_new], feeding at most the last
  // `context` tokens. temperature 0 is greedy (argmax); top_k 0 keeps all V candidates. Runs in
  // eval mode without gradients (the training mode is restored) and draws only from `generator`
  // when given, so a fixed generator gives a fixed continuation.
  torch::Tensor generate(const torch::Tensor& prompt, int64_t n_new, double temperature = 1.0,
                         int64_t top_k = 0,
                         c10::optional<torch::Generator> generator = c10::nullopt);

  // Number of parameters; non_embedding drops wte and wpe (Kaplan et al. 2020's N) but keeps an
  // untied head.
  int64_t num_parameters(bool non_embedding = false) const;

  const TransformerBlock& block(int64_t layer) const;
  const GPTOptions& options() const { return options_; }

 private:
  GPTOptions options_;
  torch::nn::Embedding wte_{nullptr}, wpe_{nullptr};
  torch::nn::Dropout drop_{nullptr};
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm ln_f_{nullptr};
  torch::nn::AnyModule head_;  // empty when tied
};
TORCH_MODULE(GPT);

// Next-token cross-entropy of logits [B,T,V] against targets [B,T] int64.
struct LMLoss {
  torch::Tensor loss;       // mean over the B*T tokens, in nats; differentiable
  double total_nats = 0;    // sum over the tokens (detached), to aggregate over batches
  int64_t tokens = 0;       // B*T
  // Mean bits per token; with the byte tokenizer this is bits per byte.
  double bits_per_token() const;
};
LMLoss lm_loss(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace lmlab
