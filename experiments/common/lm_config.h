// The [model] and [train] config sections of the experiments that train a GPT (their .toml files
// spell the same keys), read into the library's options.
#pragma once

#include <cstdint>

#include "lmlab/core/config.h"
#include "lmlab/models/gpt.h"
#include "lmlab/train/lm_trainer.h"

namespace lmlab {

// The train.* keys (batch, lr, weight_decay, warmup) with `steps` steps and cosine decay, and the
// optimizer of the [optim] section when the config has one (optim_config.h; AdamW by default,
// `seed` for RVA); UsageError when a count is < 1, warmup < 0, lr <= 0 or an optim.* value is out of range.
LMTrainOptions lm_train_options(const Config& cfg, int64_t steps, uint64_t seed = 0);
// The model.* keys (context, layers, heads, tied_head, and width when the config has it) on top
// of `base`.
GPTOptions gpt_options(const Config& cfg, GPTOptions base = {});

}  // namespace lmlab
