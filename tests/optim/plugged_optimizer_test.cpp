// PluggedOptimizer (lmlab/optim/plugged_optimizer.h): each name, plug-in and adapter takes exactly
// the steps of the classes it assembles, used by hand; its saved state resumes the same
// trajectory; bad options are UsageErrors that name the value.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "lmlab/core/archive.h"
#include "lmlab/optim/plugged_optimizer.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"
#include "support/usage_error.h"

namespace lmlab::optim {
namespace {

using test_support::data_error;
using test_support::usage_error;

// A non-quadratic gradient field in float64, different at every step t.
torch::Tensor gradient(const torch::Tensor& x, int t) { return torch::cos(3 * x.detach() + t) + 0.3; }

torch::Tensor start() { return torch::linspace(-1, 1, 7, torch::kDouble).requires_grad_(); }

// `steps` steps of `optimizer` (anything with step()) on x from start().
template <class StepFn>
torch::Tensor trajectory_end(torch::Tensor x, StepFn step, int steps = 12) {
  for (int t = 0; t < steps; ++t) {
    x.mutable_grad() = gradient(x, t);
    step();
  }
  return x.detach();
}

TEST(PluggedOptimizer, EachBaseIsLibTorchsOwn) {
  const auto o = PluggedOptimizerOptions().lr(0.05).weight_decay(0.01);
  auto x = start(), y = start();
  PluggedOptimizer sgd({x}, PluggedOptimizerOptions(o).name("sgd").momentum(0.9).nesterov(true));
  torch::optim::SGD ref({y}, torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(0.01));
  EXPECT_TRUE(torch::equal(trajectory_end(x, [&] { sgd.step(); }), trajectory_end(y, [&] { ref.step(); })));

  auto a = start(), b = start();
  PluggedOptimizer adamw({a}, PluggedOptimizerOptions(o).name("adamw").beta1(0.8).beta2(0.99).eps(1e-6));
  torch::optim::AdamW ref_w({b}, torch::optim::AdamWOptions(0.05).betas({0.8, 0.99}).eps(1e-6).weight_decay(0.01));
  EXPECT_TRUE(torch::equal(trajectory_end(a, [&] { adamw.step(); }), trajectory_end(b, [&] { ref_w.step(); })));

  auto c = start(), d = start();
  PluggedOptimizer adagrad({c}, PluggedOptimizerOptions(o).name("adagrad"));
  torch::optim::Adagrad ref_g({d}, torch::optim::AdagradOptions(0.05).weight_decay(0.01));
  EXPECT_TRUE(torch::equal(trajectory_end(c, [&] { adagrad.step(); }), trajectory_end(d, [&] { ref_g.step(); })));
}

TEST(PluggedOptimizer, PluginAndAdapterAreTheLibraryClasses) {
  const auto o = PluggedOptimizerOptions().name("sgd").lr(0.05).momentum(0.5);
  const auto dbd = DeltaBarDeltaOptions().kappa(0.01).phi(0.3);
  auto x = start(), y = start();
  PluggedOptimizer plugged({x}, PluggedOptimizerOptions(o).accel("reject").lr_adapter("rdbd").dbd(dbd));
  torch::optim::SGD sgd({y}, torch::optim::SGDOptions(0.05).momentum(0.5));
  RejectAccelerating reject(sgd);
  RDBD rdbd(sgd, dbd, &reject);
  EXPECT_TRUE(plugged.adapts_lr());
  EXPECT_TRUE(torch::equal(trajectory_end(x, [&] { plugged.step(); }), trajectory_end(y, [&] { rdbd.step(); })));
  EXPECT_EQ(plugged.lr(), rdbd.lrs()[0]);
  EXPECT_NE(plugged.lr(), 0.05);  // the adapter moved it

  auto a = start(), b = start();
  PluggedOptimizer rva({a}, PluggedOptimizerOptions(o).accel("rva").rva(RandomVectorAcceleratingOptions().seed(3)));
  torch::optim::SGD sgd2({b}, torch::optim::SGDOptions(0.05).momentum(0.5));
  RandomVectorAccelerating ref(sgd2, RandomVectorAcceleratingOptions().seed(3));
  EXPECT_FALSE(rva.adapts_lr());
  EXPECT_TRUE(torch::equal(trajectory_end(a, [&] { rva.step(); }), trajectory_end(b, [&] { ref.step(); })));
}

// RVA and hypergradient descent over Adam: twelve steps straight against six, a save, a load into
// a fresh optimizer and six more.
TEST(PluggedOptimizer, SavedStateResumesTheSameTrajectory) {
  const auto o = PluggedOptimizerOptions()
                     .name("adam")
                     .lr(0.02)
                     .accel("rva")
                     .rva(RandomVectorAcceleratingOptions().seed(9))
                     .lr_adapter("hd")
                     .hd(HypergradientOptions().beta(1e-3));
  auto x = start();
  PluggedOptimizer straight({x}, o);
  std::stringstream saved;
  torch::Tensor x6;
  for (int t = 0; t < 12; ++t) {
    x.mutable_grad() = gradient(x, t);
    straight.step();
    if (t == 5) {
      torch::serialize::OutputArchive archive;
      straight.save(archive);
      archive.save_to(saved);
      x6 = x.detach().clone();
    }
  }
  auto y = x6.clone().requires_grad_();
  PluggedOptimizer resumed({y}, PluggedOptimizerOptions(o).rva(RandomVectorAcceleratingOptions().seed(1)));
  torch::serialize::InputArchive archive;
  archive.load_from(saved);
  resumed.load(archive);
  for (int t = 6; t < 12; ++t) {
    y.mutable_grad() = gradient(y, t);
    resumed.step();
  }
  EXPECT_TRUE(torch::equal(x, y));
  EXPECT_EQ(resumed.lr(), straight.lr());
}

TEST(PluggedOptimizer, BadOptionsNameTheValue) {
  const auto make = [](PluggedOptimizerOptions o) { return [o] { PluggedOptimizer({start()}, o); }; };
  const PluggedOptimizerOptions o;
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).name("lion"))), "unknown optimizer 'lion'");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).lr(-0.1))), "-0.1");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).lr(NAN))), "learning rate must be finite");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).beta2(1.0))), "betas must be in [0, 1)");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).name("sgd").nesterov(true))), "Nesterov");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).name("sgd").momentum(1.0))), "momentum must be in");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).accel("nag"))), "unknown accel 'nag'");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).lr_adapter("dbdb"))), "unknown lr_adapter 'dbdb'");
  EXPECT_MENTIONS(usage_error(make(PluggedOptimizerOptions(o).lr_adapter("rdbd").dbd(DeltaBarDeltaOptions().phi(1)))),
                  "phi");
  EXPECT_MENTIONS(usage_error([o] {
                    plugged_optimizer_factory(PluggedOptimizerOptions(o).lr_adapter("hd").hd(
                        HypergradientOptions().bounds(LrBounds().lr_min(1).lr_max(0.1))));
                  }),
                  "lr_min <= lr_max");
}

// Optimizer state is outside input (Python passes it as bytes): anything wrong with it is a
// DataError naming the entry, and a refused state leaves the optimizer as it was. Found by the
// `checkpoint` fuzz target (tests/fuzz/checkpoint_fuzz.cpp), which got raw LibTorch errors.
TEST(PluggedOptimizer, CorruptStateIsADataErrorAndChangesNothing) {
  const auto options = PluggedOptimizerOptions().name("adamw").accel("reject").lr_adapter("dbd");
  auto x = start();
  PluggedOptimizer optimizer({x}, options);
  trajectory_end(x, [&] { optimizer.step(); }, 3);
  const double lr = optimizer.lr();
  // Saved state with one entry replaced (or dropped, when `value` is undefined), as bytes.
  const auto state_with = [&](const std::string& section, const std::string& key, const torch::Tensor& value) {
    torch::serialize::OutputArchive archive, base, plugin, adapter;
    plugin.write("steps", torch::tensor(int64_t{3}));
    plugin.write("rejected", torch::tensor(int64_t{0}));
    adapter.write("group0.lr", torch::tensor(0.01, torch::kDouble));
    adapter.write("group0.last_change", torch::tensor(0.0, torch::kDouble));
    adapter.write("group0.direction.0", torch::zeros({7}, torch::kDouble));
    auto& changed = section == "plugin" ? plugin : adapter;
    if (value.defined()) changed.write(key, value);
    optimizer.base().save(base);
    archive.write("base", base), archive.write("plugin", plugin), archive.write("adapter", adapter);
    std::ostringstream out;
    archive.save_to(out);
    return out.str();
  };
  const auto load = [&](const std::string& bytes) {
    torch::serialize::InputArchive archive;
    read_archive_bytes(archive, bytes, "optimizer state", "pass what save() wrote");
    optimizer.load(archive);
  };
  EXPECT_NO_THROW(load(state_with("plugin", "steps", torch::tensor(int64_t{5}))));
  EXPECT_MENTIONS(data_error([&] { load(state_with("plugin", "steps", torch::zeros({2}))); }), "'steps' should be one number");
  EXPECT_MENTIONS(data_error([&] { load(state_with("plugin", "rejected", torch::tensor(-1.0))); }), "a count");
  EXPECT_MENTIONS(data_error([&] { load(state_with("adapter", "group0.lr", torch::tensor(NAN))); }), "'group0.lr' is nan");
  EXPECT_MENTIONS(data_error([&] { load(state_with("adapter", "group0.direction.0", torch::zeros({3}))); }),
                  "saved for other parameters");
  EXPECT_MENTIONS(data_error([&] { load(state_with("adapter", "group0.direction.1", torch::zeros({7}))); }),
                  "more 'group0.direction.' tensors");
  EXPECT_MENTIONS(data_error([&] { load("PK\x03\x04 and then garbage"); }), "corrupt (no zip directory");
  EXPECT_MENTIONS(data_error([&] { load("garbage"); }), "not a LibTorch archive");
  const double loaded_lr = optimizer.lr();  // 0.01, from the one state that loaded
  EXPECT_EQ(loaded_lr, 0.01);
  EXPECT_NE(lr, loaded_lr);
}

// Loads the state whose "base" is `base` into `optimizer`, through bytes as Python's load() does.
void load_base_state(PluggedOptimizer& optimizer, torch::serialize::OutputArchive& base) {
  torch::serialize::OutputArchive archive;
  archive.write("base", base);
  std::ostringstream out;
  archive.save_to(out);
  torch::serialize::InputArchive in;
  read_archive_bytes(in, out.str(), "optimizer state", "");
  optimizer.load(in);
}

// The base optimizer's own state (LibTorch's Optimizer::load takes it as stored) is checked
// against the parameters: a moment of another shape would fail, or broadcast, at a later step.
TEST(PluggedOptimizer, BaseStateOfOtherParametersIsADataError) {
  auto small = torch::zeros({3}, torch::kDouble).requires_grad_();
  PluggedOptimizer other({small}, PluggedOptimizerOptions().name("adam"));
  trajectory_end(small, [&] { other.step(); }, 1);
  torch::serialize::OutputArchive base;
  other.base().save(base);
  auto x = start();
  PluggedOptimizer optimizer({x}, PluggedOptimizerOptions().name("adam"));
  EXPECT_MENTIONS(data_error([&] { load_base_state(optimizer, base); }), "saved for other parameters");
  EXPECT_NO_THROW(trajectory_end(x, [&] { optimizer.step(); }, 2));
}

// LibTorch's Optimizer::load reads the entries a state's sizes announce and throws an
// ObjectAttributeError (no c10::Error) for a missing one; that escaped as an uncaught exception
// and ended the process (the `checkpoint` fuzz target's finding).
TEST(PluggedOptimizer, BaseStateMissingAnEntryIsADataError) {
  torch::serialize::OutputArchive base, state, groups, group, options;
  base.write("pytorch_version", c10::IValue(std::string("1.5.0")));
  base.write("state", state);
  groups.write("param_groups/size", torch::tensor(int64_t{1}));
  group.write("params/size", torch::tensor(int64_t{2}));  // announces two parameters, holds one
  group.write("params/0", c10::IValue(std::string("0x1")));
  options.write("lr", c10::IValue(0.1));
  group.write("options", options);
  groups.write("param_groups/0", group);
  base.write("param_groups", groups);
  auto x = start();
  PluggedOptimizer optimizer({x}, PluggedOptimizerOptions().name("adagrad"));
  EXPECT_MENTIONS(data_error([&] { load_base_state(optimizer, base); }), "the adagrad state does not load");
}

}  // namespace
}  // namespace lmlab::optim
