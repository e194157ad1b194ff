// The language-model training step (include/lmlab/train/lm_trainer.h).
#include "lmlab/train/lm_trainer.h"

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/train/finite_check.h"
#include "lmlab/train/lr_schedule.h"
#include "lmlab/train/step_memory.h"

namespace lmlab {

double lm_learning_rate(const LMTrainOptions& o, int64_t step) {
  return warmup_cosine_lr(o.lr, o.warmup, o.steps, o.cosine, step);
}

LMTrainer::LMTrainer(GPT model, const LMTrainOptions& options, uint64_t batch_seed)
    : model_(std::move(model)),
      options_(options),
      optimizer_(options.optimizer ? options.optimizer(model_->parameters())
                                   : make_adamw(model_->parameters(), options.lr, options.weight_decay)),
      generator_(make_generator(batch_seed)) {
  LMLAB_CHECK(optimizer_ != nullptr, UsageError, "LMTrainOptions::optimizer returned no optimizer");
  parallel_ = data_parallel_replica(model_->parameters(), model_->buffers());
  // Before the first step allocates the activations and the optimizer's moments.
  check_step_memory("a GPT", options.batch, step_bytes(model_, options.batch),
                    "lower the batch size, model.context, model.width or model.layers");
}

double LMTrainer::step(const TextBatcher& data) {
  return step(data.sample(options_.batch, model_->options().context(), generator_));
}

double LMTrainer::step(const TokenBatch& b) {
  ++step_;
  if (!optimizer_->adapts_lr()) optimizer_->set_lr(lm_learning_rate(options_, step_));
  torch::Tensor x = b.x, y = b.y;
  double weight = 1;  // of this rank's mean loss (data_parallel.h)
  if (parallel_) {
    const DataParallelGroup::Shard s = parallel_->prepare_forward(x.size(0));
    x = x.slice(0, s.first, s.last);
    y = y.slice(0, s.first, s.last);
    weight = s.weight;
  }
  const LMLoss l = lm_loss(model_->forward(x), y);
  optimizer_->zero_grad();
  if (parallel_) parallel_->prepare_backward();
  (weight == 1 ? l.loss : l.loss * weight).backward();
  double nats = weight > 0 ? l.total_nats : 0, tokens = weight > 0 ? static_cast<double>(l.tokens) : 0;
  if (parallel_) {  // the global batch's loss, the same on every rank, so that all stop together
    torch::Tensor sums = torch::tensor({nats, tokens}, torch::kDouble);
    parallel_->group().allreduce_sum(sums);
    nats = sums[0].item<double>(), tokens = sums[1].item<double>();
  }
  const double loss = nats / tokens;
  check_finite_loss(loss, *model_, step_, "lower the learning rate (train.lr) or raise the warm-up");
  optimizer_->step();
  tokens_ += static_cast<int64_t>(tokens);
  return loss;
}

}  // namespace lmlab
