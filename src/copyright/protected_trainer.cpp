// Protected language-model training (include/lmlab/copyright/protected_trainer.h).
#include "lmlab/copyright/protected_trainer.h"

#include "lmlab/copyright/released_code.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::copyright {

ProtectedTrainer::ProtectedTrainer(GPT model, const LMTrainOptions& train, const ProtectedTrainingOptions& options,
                                   uint64_t batch_seed)
    : model_(std::move(model)),
      train_(train),
      options_(options),
      optimizer_(model_->parameters(), torch::optim::AdamWOptions(train.lr).weight_decay(train.weight_decay)),
      generator_(make_generator(batch_seed)) {
  check_protected_loss_options(options.loss());
  LMLAB_CHECK(train.batch >= 1 && train.steps >= 1 && train.warmup >= 0 && train.lr > 0, UsageError,
              "protected training: batch and steps must be >= 1, warmup >= 0 and lr > 0; got batch ", train.batch,
              ", steps ", train.steps, ", warmup ", train.warmup, ", lr ", train.lr);
}

ProtectedStep ProtectedTrainer::step(const MarkedTextStream& data) {
  LMLAB_CHECK(data.copyrighted_tokens() > 0, UsageError, "protected training: the training text has no copyrighted "
              "document; mark some (mark_copyrighted) or train with gamma = 0 on plain text (LMTrainer)");
  return step(data.sample(train_.batch, model_->options().context(), generator_));
}

ProtectedStep ProtectedTrainer::step(const MarkedBatch& batch) {
  ++step_;
  for (auto& group : optimizer_.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lm_learning_rate(train_, step_));
  const ProtectedLoss l = options_.emulate_released_code()
                              ? released_code_loss(model_, batch, options_.loss())
                              : protected_loss(model_->forward(batch.x), batch.y, batch.copyrighted, options_.loss());
  LMLAB_CHECK(std::isfinite(l.loss.item<double>()), DataError, "protected training: the loss is not finite at step ",
              step_, " (CE ", l.ce_all, ", CE_cp ", l.ce_cp, "); lower train.lr or gamma");
  optimizer_.zero_grad();
  l.loss.backward();
  optimizer_.step();
  ProtectedStep s;
  s.loss = l.loss.item<double>();
  s.logged = options_.emulate_released_code() ? s.loss * kReleasedCodeLogScale : s.loss;
  s.ce_all = l.ce_all, s.ce_cp = l.ce_cp;
  s.has_copyrighted = l.has_copyrighted, s.floored = l.floored;
  return s;
}

}  // namespace lmlab::copyright
