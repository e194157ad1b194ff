// Reading the [model] and [train] sections (experiments/common/lm_config.h).
#include "common/lm_config.h"

#include "common/optim_config.h"
#include "lmlab/core/error.h"

namespace lmlab {

LMTrainOptions lm_train_options(const Config& cfg, int64_t steps, uint64_t seed) {
  LMTrainOptions o;
  o.batch = cfg.get_int("train.batch");
  o.lr = cfg.get_float("train.lr");
  o.weight_decay = cfg.get_float("train.weight_decay");
  o.warmup = cfg.get_int("train.warmup");
  o.steps = steps;
  LMLAB_CHECK(o.batch >= 1 && o.steps >= 1 && o.warmup >= 0 && o.lr > 0, UsageError,
              "train.batch and the step count must be >= 1, train.warmup >= 0 and train.lr > 0");
  if (cfg.has("optim.name")) o.optimizer = optimizer_factory(cfg, "adamw", o.lr, o.weight_decay, seed);
  return o;
}

GPTOptions gpt_options(const Config& cfg, GPTOptions base) {
  if (cfg.has("model.width")) base.width(cfg.get_int("model.width"));
  return base.context(cfg.get_int("model.context"))
      .layers(cfg.get_int("model.layers"))
      .heads(cfg.get_int("model.heads"))
      .tied_head(cfg.get_bool("model.tied_head"));
}

}  // namespace lmlab
