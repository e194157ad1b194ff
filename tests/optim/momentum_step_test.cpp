// The fused SGD-momentum step (lmlab/optim/momentum_step.h) against LibTorch's own step, bit for
// bit; and every plug-in over it (float32 parameters: the fused path) against the same plug-in on
// a float64 copy of the problem (the observed path): the same decisions, draws and learning
// rates, trajectories equal to float32 rounding. Resume from a checkpoint on the fused path.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "lmlab/optim/delta_bar_delta.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/momentum_step.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab::optim {
namespace {

// Two groups (lr 0.05 and 0.02) over tensors of 3, 70001 (two 64k slices) and 8 entries, and one
// tensor that never has a gradient; SGD momentum 0.9, dampening 0.1, weight decay 0.01.
struct Model {
  TensorList params;
  std::unique_ptr<torch::optim::SGD> sgd;
  explicit Model(torch::ScalarType dtype, bool decay = true) {
    torch::manual_seed(5);
    for (int64_t n : {3, 70001, 8, 4}) params.push_back(torch::randn({n}).to(dtype).requires_grad_());
    const auto options = torch::optim::SGDOptions(0.05).momentum(0.9).dampening(0.1).weight_decay(decay ? 0.01 : 0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(TensorList{params[0], params[1]});
    groups.emplace_back(TensorList{params[2], params[3]}, std::make_unique<torch::optim::SGDOptions>(options));
    static_cast<torch::optim::SGDOptions&>(groups[1].options()).lr(0.02);
    sgd = std::make_unique<torch::optim::SGD>(groups, options);
  }
  // Gradients of a smooth function of the parameters at step t (the last tensor gets none).
  void set_grads(int t) {
    for (size_t i = 0; i + 1 < params.size(); ++i)
      params[i].mutable_grad() = (torch::sin(params[i].detach() * (1 + 0.1 * t)) + 0.3 * std::cos(t + double(i)));
  }
};

bool same(const TensorList& a, const TensorList& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

void expect_close(const TensorList& f32, const TensorList& f64, double tol) {
  for (size_t i = 0; i < f32.size(); ++i)
    EXPECT_LT((f32[i].detach().to(torch::kDouble) - f64[i].detach()).abs().max().item<double>(), tol) << "tensor " << i;
}

TEST(MomentumStep, IsLibTorchsStepBitForBit) {
  for (bool decay : {false, true}) {
    Model fused(torch::kFloat, decay), plain(torch::kFloat, decay);
    ASSERT_TRUE(MomentumStep::applies(*fused.sgd));
    for (int t = 0; t < 6; ++t) {
      fused.set_grads(t), plain.set_grads(t);
      MomentumStep m(*fused.sgd);
      m.update();
      m.along();
      plain.sgd->step();
      ASSERT_TRUE(same(fused.params, plain.params)) << "step " << t << " decay " << decay;
    }
    // The buffers live in LibTorch's state: its own step continues from them.
    fused.set_grads(6), plain.set_grads(6);
    fused.sgd->step(), plain.sgd->step();
    EXPECT_TRUE(same(fused.params, plain.params));
  }
}

TEST(MomentumStep, AppliesOnlyToFloat32SgdWithMomentumAndNoNesterov) {
  Model f64(torch::kDouble);
  f64.set_grads(0);
  EXPECT_FALSE(MomentumStep::applies(*f64.sgd));
  auto x = torch::zeros({4}).requires_grad_();
  x.mutable_grad() = torch::ones({4});
  torch::optim::SGD plain({x}, torch::optim::SGDOptions(0.1));
  torch::optim::SGD nesterov({x}, torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  torch::optim::Adam adam({x}, torch::optim::AdamOptions(0.1));
  EXPECT_FALSE(MomentumStep::applies(plain));
  EXPECT_FALSE(MomentumStep::applies(nesterov));
  EXPECT_FALSE(MomentumStep::applies(adam));
  torch::optim::SGD momentum({x}, torch::optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_TRUE(MomentumStep::applies(momentum));
  auto strided = torch::zeros({4, 2}).t().requires_grad_();  // not contiguous: observed instead
  strided.mutable_grad() = torch::ones({2, 4});
  torch::optim::SGD over_strided({strided}, torch::optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_FALSE(MomentumStep::applies(over_strided));
}

// The plug-in `make` over a float32 model (fused) and a float64 copy (observed), 12 steps.
template <class Plugin, class Make>
void compare_paths(Make make, double tol) {
  SCOPED_TRACE(typeid(Plugin).name());
  Model f32(torch::kFloat), f64(torch::kDouble);
  for (size_t i = 0; i < f32.params.size(); ++i) {
    torch::NoGradGuard no_grad;
    f64.params[i].copy_(f32.params[i].to(torch::kDouble));
  }
  auto fused = make(*f32.sgd);
  auto observed = make(*f64.sgd);
  for (int t = 0; t < 12; ++t) {
    f32.set_grads(t);
    for (size_t i = 0; i + 1 < f64.params.size(); ++i) f64.params[i].mutable_grad() = f32.params[i].grad().to(torch::kDouble);
    fused->step(), observed->step();
    expect_close(f32.params, f64.params, tol);
  }
  if constexpr (std::is_base_of_v<LrAdapter, Plugin>) {
    for (size_t g = 0; g < 2; ++g) EXPECT_NEAR(fused->lrs()[g], observed->lrs()[g], 1e-6 * observed->lrs()[g]);
  }
}

TEST(MomentumStep, PluginsMatchTheirObservedStep) {
  // RA: the momentum term is rejected on some of these steps; both paths reject the same ones.
  {
    Model f32(torch::kFloat), f64(torch::kDouble);
    for (size_t i = 0; i < f32.params.size(); ++i) {
      torch::NoGradGuard no_grad;
      f64.params[i].copy_(f32.params[i].to(torch::kDouble));
    }
    RejectAccelerating fused(*f32.sgd), observed(*f64.sgd);
    for (int t = 0; t < 12; ++t) {
      f32.params[1].mutable_grad() = torch::full({70001}, t % 3 == 2 ? -1.f : 1.f);
      f32.params[0].mutable_grad() = torch::ones({3}), f32.params[2].mutable_grad() = torch::ones({8});
      for (size_t i = 0; i + 1 < f64.params.size(); ++i) f64.params[i].mutable_grad() = f32.params[i].grad().to(torch::kDouble);
      fused.step(), observed.step();
      expect_close(f32.params, f64.params, 1e-5);
    }
    EXPECT_GT(fused.rejected(), 0);
    EXPECT_EQ(fused.rejected(), observed.rejected());
  }
  // RVA: the same draws (float32, widened on the observed path) and the same step.
  compare_paths<RandomVectorAccelerating>(
      [](torch::optim::Optimizer& o) {
        return std::make_unique<RandomVectorAccelerating>(o, RandomVectorAcceleratingOptions().seed(11));
      },
      1e-5);
  compare_paths<RandomVectorAccelerating>(  // on 100 of the 70012 coordinates
      [](torch::optim::Optimizer& o) {
        return std::make_unique<RandomVectorAccelerating>(o, RandomVectorAcceleratingOptions().seed(11).subspace_dim(100));
      },
      1e-5);
  compare_paths<DeltaBarDelta>([](torch::optim::Optimizer& o) { return std::make_unique<DeltaBarDelta>(o); }, 1e-5);
  compare_paths<RDBD>([](torch::optim::Optimizer& o) { return std::make_unique<RDBD>(o); }, 1e-5);
  // beta small enough that lr moves by percents (<g, d> is about 1e4 here), not by its own size.
  compare_paths<Hypergradient>(
      [](torch::optim::Optimizer& o) { return std::make_unique<Hypergradient>(o, HypergradientOptions().beta(1e-7)); },
      1e-5);
}

// Ten fused steps straight against five, a save, a load into fresh objects and five more.
template <class Plugin, class Make>
void expect_resume(Make make) {
  Model straight(torch::kFloat), resumed(torch::kFloat);
  std::stringstream saved;
  {
    auto plugin = make(*straight.sgd);
    for (int t = 0; t < 10; ++t) {
      straight.set_grads(t);
      plugin->step();
      if (t == 4) {
        torch::serialize::OutputArchive out, base, own;
        for (size_t i = 0; i < straight.params.size(); ++i) out.write("p" + std::to_string(i), straight.params[i].detach().clone());
        straight.sgd->save(base);
        plugin->save(own);
        out.write("base", base), out.write("own", own);
        out.save_to(saved);
      }
    }
  }
  auto plugin = make(*resumed.sgd);
  torch::serialize::InputArchive in, base, own;
  in.load_from(saved);
  for (size_t i = 0; i < resumed.params.size(); ++i) {
    torch::Tensor p;
    in.read("p" + std::to_string(i), p);
    torch::NoGradGuard no_grad;
    resumed.params[i].copy_(p);
  }
  in.read("base", base), in.read("own", own);
  resumed.sgd->load(base);
  plugin->load(own);
  for (int t = 5; t < 10; ++t) {
    resumed.set_grads(t);
    plugin->step();
  }
  EXPECT_TRUE(same(straight.params, resumed.params));
}

TEST(MomentumStep, FusedPluginsResumeTheSameTrajectory) {
  expect_resume<RandomVectorAccelerating>([](torch::optim::Optimizer& o) {
    return std::make_unique<RandomVectorAccelerating>(o, RandomVectorAcceleratingOptions().seed(3));
  });
  expect_resume<RandomVectorAccelerating>([](torch::optim::Optimizer& o) {
    return std::make_unique<RandomVectorAccelerating>(o, RandomVectorAcceleratingOptions().seed(3).subspace_dim(10));
  });
  expect_resume<RejectAccelerating>([](torch::optim::Optimizer& o) { return std::make_unique<RejectAccelerating>(o); });
  expect_resume<RDBD>([](torch::optim::Optimizer& o) { return std::make_unique<RDBD>(o); });
  expect_resume<Hypergradient>(
      [](torch::optim::Optimizer& o) { return std::make_unique<Hypergradient>(o, HypergradientOptions().beta(1e-4)); });
}

}  // namespace
}  // namespace lmlab::optim
