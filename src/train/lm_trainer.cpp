// The language-model training step (include/lmlab/train/lm_trainer.h).
#include "lmlab/train/lm_trainer.h"

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/models/parameters.h"
#include "lmlab/train/finite_check.h"
#include "lmlab/train/lr_schedule.h"

namespace lmlab {

double lm_learning_rate(const LMTrainOptions& o, int64_t step) {
  return warmup_cosine_lr(o.lr, o.warmup, o.steps, o.cosine, step);
}

double lm_step_bytes(GPT& model, int64_t batch) {
  const GPTOptions& o = model->options();
  int64_t map_layers = 0;  // attention cores that keep their T x T map
  for (const auto& m : model->modules(/*include_self=*/false)) {
    const auto* core = dynamic_cast<const AttentionCore*>(m.get());
    if (core == nullptr) continue;
    const auto* softmax = dynamic_cast<const SoftmaxAttention*>(core);
    map_layers += softmax == nullptr || softmax->recording();
  }
  const double t = double(o.context()), per_token = double(o.layers()) * (11.0 + 2.0 * o.mlp_ratio()) * o.width() +
                                                  double(map_layers) * 2.0 * o.heads() * t + 3.0 * o.vocab();
  return 16.0 * double(count_trainable_parameters(*model)) + 4.0 * double(batch) * t * per_token;
}

LMTrainer::LMTrainer(GPT model, const LMTrainOptions& options, uint64_t batch_seed)
    : model_(std::move(model)),
      options_(options),
      optimizer_(options.optimizer ? options.optimizer(model_->parameters())
                                   : make_adamw(model_->parameters(), options.lr, options.weight_decay)),
      generator_(make_generator(batch_seed)) {
  LMLAB_CHECK(optimizer_ != nullptr, UsageError, "LMTrainOptions::optimizer returned no optimizer");
  // Before the first step allocates the activations and the optimizer's moments.
  check_memory("a training step of a GPT on batches of " + std::to_string(options.batch) + " x " +
                   std::to_string(model_->options().context()) + " tokens",
               lm_step_bytes(model_, options.batch), "lower the batch size, model.context, model.width or model.layers");
}

double LMTrainer::step(const TextBatcher& data) {
  return step(data.sample(options_.batch, model_->options().context(), generator_));
}

double LMTrainer::step(const TokenBatch& b) {
  ++step_;
  if (!optimizer_->adapts_lr()) optimizer_->set_lr(lm_learning_rate(options_, step_));
  const LMLoss l = lm_loss(model_->forward(b.x), b.y);
  optimizer_->zero_grad();
  l.loss.backward();
  const double loss = l.total_nats / static_cast<double>(l.tokens);
  check_finite_loss(loss, *model_, step_, "lower the learning rate (train.lr) or raise the warm-up");
  optimizer_->step();
  tokens_ += l.tokens;
  return loss;
}

}  // namespace lmlab
