// Training a tiny GPT as text.gpt does, shared by the experiments that train language models
// (text.gpt, onebit.scaling_law) and by bench/text_gpt_bench.cpp, so all run the same step.
//
// One step: sample `batch` windows of T + 1 tokens (TextBatcher::sample), forward, lm_loss,
// zero_grad, backward, AdamW step at lm_learning_rate(step).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/core/config.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/models/gpt.h"

namespace lmlab {

struct LMTrainOptions {
  int64_t batch = 32;
  double lr = 2e-3;            // peak
  double weight_decay = 0.01;  // AdamW
  int64_t warmup = 100;        // linear warm-up steps
  int64_t steps = 1000;        // total, for the decay
  bool cosine = true;          // cosine decay to lr / 10 after warm-up; false: constant lr
};

// The train.* keys of text.gpt's config (batch, lr, weight_decay, warmup) with `steps` steps and
// cosine decay.
LMTrainOptions lm_train_options(const Config& cfg, int64_t steps);
// The model.* keys (context, layers, heads, tied_head, and width when the config has it) on top
// of `base`.
GPTOptions gpt_options(const Config& cfg, GPTOptions base = {});

// Linear warm-up to lr over `warmup` steps, then cosine decay to lr / 10 at `steps` (or constant).
double lm_learning_rate(const LMTrainOptions& options, int64_t step);

class LMTrainer {
 public:
  // Takes the model (shared) and draws batches from make_generator(batch_seed).
  LMTrainer(GPT model, const LMTrainOptions& options, uint64_t batch_seed);

  // One training step on a batch of `data`; returns its loss before the update (mean nats per
  // token) and counts the tokens.
  double step(const TextBatcher& data);
  // The same step on a given batch.
  double step(const TokenBatch& batch);

  int64_t steps_done() const { return step_; }
  int64_t tokens_seen() const { return tokens_; }
  GPT& model() { return model_; }

 private:
  GPT model_;
  LMTrainOptions options_;
  torch::optim::AdamW optimizer_;
  torch::Generator generator_;
  int64_t step_ = 0, tokens_ = 0;
};

// Mean bits per byte of `model` over the first `max_batches` evaluation batches of `data` (0: all),
// in eval mode without gradients; the training mode is restored.
double evaluate_bpb(GPT& model, const TextBatcher& data, int64_t max_batches);

}  // namespace lmlab
