// Training any lmlab GPT on the copyright-protected loss (P10, arXiv 2308.12247): the step of
// LMTrainer (lm_trainer.h: AdamW, warm-up and cosine lr from LMTrainOptions) with
// protected_loss (protected_loss.h) in place of plain cross-entropy, the gradient reaching every
// parameter. With emulate_released_code the step uses released_code_loss (released_code.h)
// instead, and the logged loss is scaled as the released code logs it.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/copyright/marked_corpus.h"
#include "lmlab/copyright/protected_loss.h"
#include "lmlab/models/gpt.h"
#include "lmlab/train/lm_trainer.h"

namespace lmlab::copyright {

struct ProtectedTrainingOptions {
  TORCH_ARG(ProtectedLossOptions, loss) = ProtectedLossOptions();
  TORCH_ARG(bool, emulate_released_code) = false;  // train as the released code does (defects 1, 2, 4)
};

struct ProtectedStep {
  double loss = 0;    // the value minimised, before the update
  double logged = 0;  // what a training log shows: loss, or loss x kReleasedCodeLogScale when emulating
  double ce_all = 0, ce_cp = 0;  // nats per token; ce_cp NaN when the batch has no copyrighted token
  bool has_copyrighted = false, floored = false;
};

class ProtectedTrainer {
 public:
  // Takes the model (shared) and draws batches from make_generator(batch_seed); checks the options.
  ProtectedTrainer(GPT model, const LMTrainOptions& train, const ProtectedTrainingOptions& options,
                   uint64_t batch_seed);

  // One step on a batch sampled from `data` (UsageError when data has no copyrighted token).
  ProtectedStep step(const MarkedTextStream& data);
  // One step on a given batch.
  ProtectedStep step(const MarkedBatch& batch);

  int64_t steps_done() const { return step_; }
  GPT& model() { return model_; }

 private:
  GPT model_;
  LMTrainOptions train_;
  ProtectedTrainingOptions options_;
  torch::optim::AdamW optimizer_;
  torch::Generator generator_;
  int64_t step_ = 0;
};

}  // namespace lmlab::copyright
