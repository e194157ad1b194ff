// The language-model training step (include/lmlab/train/lm_trainer.h).
#include "lmlab/train/lm_trainer.h"

#include "lmlab/train/lr_schedule.h"
#include "lmlab/core/seed.h"

namespace lmlab {

double lm_learning_rate(const LMTrainOptions& o, int64_t step) {
  return warmup_cosine_lr(o.lr, o.warmup, o.steps, o.cosine, step);
}

LMTrainer::LMTrainer(GPT model, const LMTrainOptions& options, uint64_t batch_seed)
    : model_(std::move(model)),
      options_(options),
      optimizer_(model_->parameters(), torch::optim::AdamWOptions(options.lr).weight_decay(options.weight_decay)),
      generator_(make_generator(batch_seed)) {}

double LMTrainer::step(const TextBatcher& data) {
  return step(data.sample(options_.batch, model_->options().context(), generator_));
}

double LMTrainer::step(const TokenBatch& b) {
  ++step_;
  for (auto& group : optimizer_.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lm_learning_rate(options_, step_));
  const LMLoss l = lm_loss(model_->forward(b.x), b.y);
  optimizer_.zero_grad();
  l.loss.backward();
  optimizer_.step();
  tokens_ += l.tokens;
  return l.total_nats / static_cast<double>(l.tokens);
}

}  // namespace lmlab
