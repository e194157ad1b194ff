// A named base optimizer with P4's plug-in and P8's lr adapter (include/lmlab/optim/plugged_optimizer.h).
#include "lmlab/optim/plugged_optimizer.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab::optim {
namespace {

bool in_unit_interval(double x) { return x >= 0 && x < 1; }

// DataError unless every state tensor of `base` (moments, sums, momentum buffers) has its
// parameter's shape and only finite values, and every step count is >= 0: LibTorch's
// Optimizer::load takes them as stored, and a wrong shape would fail (or broadcast) at a later step.
void check_base_state(torch::optim::Optimizer& base, const std::string& what) {
  const auto check = [&](const torch::Tensor& t, const torch::Tensor& p, const char* name) {
    if (!t.defined()) return;
    LMLAB_CHECK(t.sizes() == p.sizes() && t.scalar_type() == p.scalar_type(), DataError, what, ": the base "
                "optimizer's ", name, " is ", t.dtype(), " ", t.sizes(), " for a parameter of ", p.dtype(), " ",
                p.sizes(), "; it was saved for other parameters");
    LMLAB_CHECK(torch::isfinite(t).all().item<bool>(), DataError, what, ": the base optimizer's ", name,
                " holds NaN or Inf; the state is corrupt");
  };
  const auto count = [&](int64_t step) {
    LMLAB_CHECK(step >= 0, DataError, what, ": the base optimizer's step count is ", step, "; the state is corrupt");
  };
  for (const auto& group : base.param_groups()) {
    for (const auto& p : group.params()) {
      const auto found = base.state().find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (found == base.state().end()) continue;
      const auto* state = found->second.get();
      if (const auto* s = dynamic_cast<const torch::optim::AdamParamState*>(state)) {
        check(s->exp_avg(), p, "exp_avg"), check(s->exp_avg_sq(), p, "exp_avg_sq");
        check(s->max_exp_avg_sq(), p, "max_exp_avg_sq"), count(s->step());
      } else if (const auto* s = dynamic_cast<const torch::optim::AdamWParamState*>(state)) {
        check(s->exp_avg(), p, "exp_avg"), check(s->exp_avg_sq(), p, "exp_avg_sq");
        check(s->max_exp_avg_sq(), p, "max_exp_avg_sq"), count(s->step());
      } else if (const auto* s = dynamic_cast<const torch::optim::AdagradParamState*>(state)) {
        check(s->sum(), p, "sum"), count(s->step());
      } else if (const auto* s = dynamic_cast<const torch::optim::SGDParamState*>(state)) {
        check(s->momentum_buffer(), p, "momentum buffer");
      }
    }
  }
}

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
  // Loaded into a fresh optimizer over the same parameters and checked, then swapped in: a
  // refused state leaves this one as it was.
  std::vector<torch::Tensor> params;
  for (const auto& group : base_->param_groups())
    params.insert(params.end(), group.params().begin(), group.params().end());
  PluggedOptimizer fresh(params, options_);
  torch::serialize::InputArchive base, plugin, adapter;
  const std::string what = "optimizer state";
  LMLAB_CHECK(archive.try_read("base", base), DataError, what, " lacks the base optimizer's state ('base'); it was "
              "not saved by PluggedOptimizer::save");
  LMLAB_CHECK(!plugin_ || archive.try_read("plugin", plugin), DataError, what, " lacks the ", options_.accel(),
              " plug-in's state; it was saved with another optim.accel");
  LMLAB_CHECK(!adapter_ || archive.try_read("adapter", adapter), DataError, what, " lacks the ",
              options_.lr_adapter(), " adapter's state; it was saved with another optim.lr_adapter");
  const auto refuse = [&](const std::string& why) {
    return DataError(what + ": the " + options_.name() + " state does not load (" + why.substr(0, why.find('\n')) +
                     "); it was saved for another optimizer or other parameters");
  };
  try {
    fresh.base_->load(base);
  } catch (const c10::Error& e) {
    throw refuse(e.what_without_backtrace());
  } catch (const std::exception& e) {  // LibTorch's ObjectAttributeError for a missing entry is no c10::Error
    throw refuse(e.what());
  }
  check_base_state(*fresh.base_, what);
  if (plugin_) fresh.plugin_->load(plugin);
  if (adapter_) fresh.adapter_->load(adapter);
  std::swap(base_, fresh.base_);  // the plug-in and the adapter refer to the base object, which stays put
  std::swap(plugin_, fresh.plugin_);
  std::swap(adapter_, fresh.adapter_);
}

TrainOptimizerFactory plugged_optimizer_factory(PluggedOptimizerOptions options) {
  options.validate();
  return [options](const std::vector<torch::Tensor>& params) -> std::unique_ptr<TrainOptimizer> {
    return std::make_unique<PluggedOptimizer>(params, options);
  };
}

}  // namespace lmlab::optim
