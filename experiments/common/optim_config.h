// The [optim] config section (experiments/common/optim.toml) that the training experiments share:
// the optimizer, P4's step plug-in and P8's lr adapter, read into the library's options.
#pragma once

#include <cstdint>
#include <string>

#include "lmlab/core/config.h"
#include "lmlab/optim/plugged_optimizer.h"

namespace lmlab {

// The optim.* keys with learning rate `lr` and weight decay `weight_decay`; `default_name` stands
// for optim.name = "default"; `seed` seeds RVA's random vectors. UsageError on a value out of range.
optim::PluggedOptimizerOptions plugged_optimizer_options(const Config& cfg, const std::string& default_name, double lr,
                                                         double weight_decay, uint64_t seed);

// The PluggedOptimizer factory of those options (validated now, before any work).
TrainOptimizerFactory optimizer_factory(const Config& cfg, const std::string& default_name, double lr,
                                        double weight_decay, uint64_t seed);

}  // namespace lmlab
