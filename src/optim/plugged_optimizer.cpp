// A named base optimizer with P4's plug-in and P8's lr adapter (include/lmlab/optim/plugged_optimizer.h).
#include "lmlab/optim/plugged_optimizer.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab::optim {
namespace {

bool in_unit_interval(double x) { return x >= 0 && x < 1; }

}  // namespace

void PluggedOptimizerOptions::validate() const {
  LMLAB_CHECK(name() == "sgd" || name() == "adagrad" || name() == "adam" || name() == "adamw", UsageError,
              "unknown optimizer '", name(), "'; use sgd, adagrad, adam or adamw");
  LMLAB_CHECK(std::isfinite(lr()) && lr() > 0, UsageError, "the learning rate must be finite and > 0; got ", lr());
  LMLAB_CHECK(std::isfinite(weight_decay()) && weight_decay() >= 0, UsageError,
              "weight decay must be finite and >= 0; got ", weight_decay());
  LMLAB_CHECK(in_unit_interval(momentum()), UsageError, "SGD momentum must be in [0, 1); got ", momentum());
  LMLAB_CHECK(!nesterov() || (name() == "sgd" && momentum() > 0), UsageError,
              "Nesterov momentum needs optimizer sgd with momentum > 0; got ", name(), " with momentum ", momentum());
  LMLAB_CHECK(in_unit_interval(beta1()) && in_unit_interval(beta2()), UsageError,
              "Adam's betas must be in [0, 1); got (", beta1(), ", ", beta2(), ")");
  LMLAB_CHECK(std::isfinite(eps()) && eps() > 0, UsageError, "Adam's eps must be finite and > 0; got ", eps());
  LMLAB_CHECK(accel() == "none" || accel() == "reject" || accel() == "rva", UsageError, "unknown accel '", accel(),
              "'; use none, reject (Reject Accelerating) or rva (Random Vector Accelerating)");
  LMLAB_CHECK(rva().subspace_dim() >= 0, UsageError, "the RVA subspace dimension must be >= 0 (0: all "
              "coordinates); got ", rva().subspace_dim());
  LMLAB_CHECK(lr_adapter() == "none" || lr_adapter() == "dbd" || lr_adapter() == "rdbd" || lr_adapter() == "hd",
              UsageError, "unknown lr_adapter '", lr_adapter(),
              "'; use none, dbd (delta-bar-delta), rdbd (RDBD) or hd (hypergradient descent)");
  if (lr_adapter() == "dbd" || lr_adapter() == "rdbd") dbd().validate();
  if (lr_adapter() == "hd") hd().validate();
}

std::unique_ptr<torch::optim::Optimizer> make_base_optimizer(const std::vector<torch::Tensor>& params,
                                                            const PluggedOptimizerOptions& o) {
  o.validate();
  if (o.name() == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr()).momentum(o.momentum()).nesterov(o.nesterov()).weight_decay(o.weight_decay()));
  if (o.name() == "adagrad")
    return std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(o.lr()).weight_decay(o.weight_decay()));
  const auto betas = std::make_tuple(o.beta1(), o.beta2());
  if (o.name() == "adam")
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
  return std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(o.lr()).betas(betas).eps(o.eps()).weight_decay(o.weight_decay()));
}

PluggedOptimizer::PluggedOptimizer(const std::vector<torch::Tensor>& params, PluggedOptimizerOptions options)
    : options_(std::move(options)), base_(make_base_optimizer(params, options_)) {
  if (options_.accel() == "reject") plugin_ = std::make_unique<RejectAccelerating>(*base_);
  if (options_.accel() == "rva") plugin_ = std::make_unique<RandomVectorAccelerating>(*base_, options_.rva());
  if (options_.lr_adapter() == "dbd") adapter_ = std::make_unique<DeltaBarDelta>(*base_, options_.dbd(), plugin_.get());
  if (options_.lr_adapter() == "rdbd") adapter_ = std::make_unique<RDBD>(*base_, options_.dbd(), plugin_.get());
  if (options_.lr_adapter() == "hd") adapter_ = std::make_unique<Hypergradient>(*base_, options_.hd(), plugin_.get());
}

void PluggedOptimizer::step() {
  if (adapter_) {
    adapter_->step();
  } else if (plugin_) {
    plugin_->step();
  } else {
    base_->step();
  }
}

double PluggedOptimizer::lr() const { return base_->param_groups().front().options().get_lr(); }

void PluggedOptimizer::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive base, plugin, adapter;
  base_->save(base);
  archive.write("base", base);
  if (plugin_) plugin_->save(plugin), archive.write("plugin", plugin);
  if (adapter_) adapter_->save(adapter), archive.write("adapter", adapter);
}

void PluggedOptimizer::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive base, plugin, adapter;
  archive.read("base", base);
  base_->load(base);
  if (plugin_) archive.read("plugin", plugin), plugin_->load(plugin);
  if (adapter_) archive.read("adapter", adapter), adapter_->load(adapter);
}

TrainOptimizerFactory plugged_optimizer_factory(PluggedOptimizerOptions options) {
  options.validate();
  return [options](const std::vector<torch::Tensor>& params) -> std::unique_ptr<TrainOptimizer> {
    return std::make_unique<PluggedOptimizer>(params, options);
  };
}

}  // namespace lmlab::optim
