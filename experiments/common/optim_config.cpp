// Reading the [optim] section (experiments/common/optim_config.h).
#include "common/optim_config.h"

namespace lmlab {

optim::PluggedOptimizerOptions plugged_optimizer_options(const Config& cfg, const std::string& default_name, double lr,
                                                         double weight_decay, uint64_t seed) {
  const std::string name = cfg.get_string("optim.name");
  const auto bounds = optim::LrBounds().lr_min(cfg.get_float("optim.lr_min")).lr_max(cfg.get_float("optim.lr_max"));
  optim::PluggedOptimizerOptions o;
  o.name(name == "default" ? default_name : name)
      .lr(lr)
      .weight_decay(weight_decay)
      .momentum(cfg.get_float("optim.momentum"))
      .nesterov(cfg.get_bool("optim.nesterov"))
      .beta1(cfg.get_float("optim.beta1"))
      .beta2(cfg.get_float("optim.beta2"))
      .eps(cfg.get_float("optim.eps"))
      .accel(cfg.get_string("optim.accel"))
      .rva(optim::RandomVectorAcceleratingOptions().seed(seed).subspace_dim(cfg.get_int("optim.rva_subspace_dim")))
      .lr_adapter(cfg.get_string("optim.lr_adapter"))
      .dbd(optim::DeltaBarDeltaOptions()
               .kappa(cfg.get_float("optim.dbd_kappa"))
               .phi(cfg.get_float("optim.dbd_phi"))
               .theta(cfg.get_float("optim.dbd_theta"))
               .bounds(bounds))
      .hd(optim::HypergradientOptions().beta(cfg.get_float("optim.hd_beta")).bounds(bounds));
  o.validate();
  return o;
}

TrainOptimizerFactory optimizer_factory(const Config& cfg, const std::string& default_name, double lr,
                                        double weight_decay, uint64_t seed) {
  return optim::plugged_optimizer_factory(plugged_optimizer_options(cfg, default_name, lr, weight_decay, seed));
}

}  // namespace lmlab
