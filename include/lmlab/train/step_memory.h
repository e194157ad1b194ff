// The memory one training step needs, estimated before anything is allocated, so a config too large
// for the machine is refused with the estimate and the limit (check_memory, lmlab/core/env.h)
// instead of being killed by the allocator or the OOM killer.
//
//   bytes = 16 P + 4 B a
//
// P: the trainable parameters (float32 value, gradient, two optimizer moments); B: the batch; a:
// the float32 activations the backward keeps for one example:
//   transformer (GPT, ViT, the in-context learner), per token of T, per layer:
//     (11 + 2 r) C   the layer norms' inputs and outputs, q, k, v, the attention output, the
//                    MLP's input and its hidden layer before and after the GELU, the residual sums
//     + 2 H T        where the attention core may hold its T x T map and its gradient (any core
//                    but SoftmaxAttention, which runs flash attention unless it records its map)
//   plus each model's ends: GPT 3 V a token (logits, their softmax, its gradient); ViT the patches
//   (Ch p^2 a token) and 3 classes; the learner its read-in input (d a token).
//   MLP: each layer's input and pre-activation, 2 (in + sum hidden + out) + out for the loss.
// Measured against LibTorch's allocator peak in tests/train/step_memory_test.cpp.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/vit.h"

namespace lmlab {

// Floats a token keeps in the `layers` transformer blocks of `model` with context `tokens`: the
// per-layer sum above, the 2 H T term counted for the attention cores of `model` that may keep a map.
double transformer_token_floats(torch::nn::Module& model, int64_t layers, int64_t width, int64_t mlp_ratio,
                                int64_t heads, int64_t tokens);

// 16 P + 4 B a, P counted over `model`, a = example_floats.
double step_bytes(torch::nn::Module& model, int64_t batch, double example_floats);
// The same with each model's a above, for `batch` examples (GPT: windows of its context).
double step_bytes(GPT& model, int64_t batch);
double step_bytes(ViT& model, int64_t batch);
double step_bytes(MLP& model, int64_t batch);

// UsageError naming `what` ("a training step of <what> on batches of <batch>"), the estimate, the
// limit and `fix` when `bytes` exceed the memory limit; callers check before the first step.
void check_step_memory(const std::string& what, int64_t batch, double bytes, const std::string& fix);

}  // namespace lmlab
