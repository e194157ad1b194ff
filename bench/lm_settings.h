// Private to bench/: the model and training settings of an experiment that trains a GPT, read from
// its compiled-in default config (experiments/<area>/<name>.toml), so a benchmark times the step
// that experiment takes.
#pragma once

#include "common/lm_config.h"
#include "lmlab/core/config.h"
#include "registry.h"

namespace lmlab {

struct LMSettings {
  GPTOptions model;
  LMTrainOptions train;
};

// `experiment` as "area.name"; its [model] and [train] keys, train.steps steps.
inline LMSettings lm_settings_of(const std::string& experiment) {
  const Config cfg = Config::from_toml(embedded_config(experiment.c_str()), experiment + " defaults");
  return {gpt_options(cfg), lm_train_options(cfg, cfg.get_int("train.steps"))};
}

}  // namespace lmlab
