// The language-model trainer every experiment that trains a GPT uses (foundation.text_gpt,
// onebit.scaling_law, sparse_attention.gaussian, ntk_attention.finetune_text) and
// bench/train_bench.cpp, so all run the same step.
//
// One step: sample `batch` windows of T + 1 tokens (TextBatcher::sample), forward, lm_loss,
// zero_grad, backward, optimizer step (AdamW unless LMTrainOptions::optimizer says otherwise) at
// lm_learning_rate(step). A loss that is NaN or infinite stops training with a DataError naming
// the step and the first parameter whose gradient is not finite.
//
// Under data_parallel_group() (lmlab run --data-parallel on several ranks) each rank trains on its
// shard of the same global batch and the gradients are averaged across ranks
// (lmlab/train/data_parallel.h): W ranks take the steps of one process with the same batch, and
// step() returns the global batch's loss.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "lmlab/data/text_batcher.h"
#include "lmlab/models/gpt.h"
#include "lmlab/train/data_parallel.h"
#include "lmlab/train/train_optimizer.h"

namespace lmlab {

struct LMTrainOptions {
  int64_t batch = 32;
  double lr = 2e-3;            // peak
  double weight_decay = 0.01;  // AdamW
  int64_t warmup = 100;        // linear warm-up steps
  int64_t steps = 1000;        // total, for the decay
  bool cosine = true;          // cosine decay to lr / 10 after warm-up; false: constant lr
  // The optimizer, built over the model's parameters; empty: AdamW(lr, weight_decay). One that
  // adapts its own lr (adapts_lr()) starts at lr and gets no warm-up or decay.
  TrainOptimizerFactory optimizer;
};

// The trainer's learning rate at `step` (1-based): warmup_cosine_lr (lr_schedule.h) from lr,
// warmup, steps and cosine.
double lm_learning_rate(const LMTrainOptions& options, int64_t step);

class LMTrainer {
 public:
  // Takes the model (shared) and draws batches from make_generator(batch_seed); UsageError when
  // step_bytes (lmlab/train/step_memory.h) exceeds the memory limit.
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
  std::unique_ptr<TrainOptimizer> optimizer_;
  std::unique_ptr<DataParallel> parallel_;  // null in one process
  torch::Generator generator_;
  int64_t step_ = 0, tokens_ = 0;
};

}  // namespace lmlab
