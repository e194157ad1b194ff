// Language-model training step and evaluation (lm_training.h).
#include "lm_training.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab {

LMTrainOptions lm_train_options(const Config& cfg, int64_t steps) {
  LMTrainOptions o;
  o.batch = cfg.get_int("train.batch");
  o.lr = cfg.get_float("train.lr");
  o.weight_decay = cfg.get_float("train.weight_decay");
  o.warmup = cfg.get_int("train.warmup");
  o.steps = steps;
  LMLAB_CHECK(o.batch >= 1 && o.steps >= 1 && o.warmup >= 0 && o.lr > 0, UsageError,
              "train.batch and the step count must be >= 1, train.warmup >= 0 and train.lr > 0");
  return o;
}

GPTOptions gpt_options(const Config& cfg, GPTOptions base) {
  if (cfg.has("model.width")) base.width(cfg.get_int("model.width"));
  return base.context(cfg.get_int("model.context"))
      .layers(cfg.get_int("model.layers"))
      .heads(cfg.get_int("model.heads"))
      .tied_head(cfg.get_bool("model.tied_head"));
}

double lm_learning_rate(const LMTrainOptions& o, int64_t step) {
  if (step <= o.warmup) return o.lr * step / std::max<int64_t>(1, o.warmup);
  if (!o.cosine) return o.lr;
  const double progress = double(step - o.warmup) / std::max<int64_t>(1, o.steps - o.warmup);
  return o.lr * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress))));
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

double evaluate_bpb(GPT& model, const TextBatcher& data, int64_t max_batches) {
  torch::NoGradGuard no_grad;
  model->eval();
  double nats = 0;
  int64_t tokens = 0, n = 0;
  for (const TokenBatch& b : data.eval_batches(64, model->options().context())) {
    if (max_batches > 0 && n++ == max_batches) break;
    const LMLoss l = lm_loss(model->forward(b.x), b.y);
    nats += l.total_nats;
    tokens += l.tokens;
  }
  model->train();
  return nats / tokens / std::log(2.0);
}

}  // namespace lmlab
