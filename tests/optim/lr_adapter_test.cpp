// The learning-rate adapters (lmlab/optim/): delta-bar-delta, RDBD and hypergradient descent on
// hand-computed SGD and Adam steps, clamping, bad input, and save / load resuming the trajectory.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/optim/delta_bar_delta.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/rdbd.h"

namespace lmlab::optim {
namespace {

// One scalar parameter x = 0 whose gradient is set by hand before each step.
struct Scalar {
  torch::Tensor x = torch::zeros({1}, torch::kDouble).requires_grad_();
  void set_grad(double g) { x.mutable_grad() = torch::full({1}, g, torch::kDouble); }
  double value() const { return x.item<double>(); }
};

// kappa 0.01, phi 0.5, theta 0.5 over SGD at lr 0.1, gradients +1, +1, -1, -1:
//   step 1: no average yet, lr 0.1, x = -0.1; deltabar = 0.5
//   step 2: s = +0.5 > 0, lr 0.11, x = -0.21; deltabar = 0.75
//   step 3: s = -0.75 < 0, lr 0.11 - 0.055 = 0.055, x = -0.155; deltabar = -0.125
//   step 4: s = +0.125 > 0, lr 0.065, x = -0.09
// RDBD from step 3: the decrease disagrees with step 2's increase, so lr is restored to 0.1 first,
// then halved: 0.05 (x = -0.16); step 4 agrees again against step 3's decrease: restored to 0.1,
// then + 0.01: 0.11 (x = -0.05). Two regrets.
TEST(DeltaBarDelta, FollowsJacobsRuleAndRdbdUndoesAdjustmentsItRegrets) {
  const auto options = DeltaBarDeltaOptions().kappa(0.01).phi(0.5).theta(0.5);
  const double grads[] = {1, 1, -1, -1};
  const double dbd_lr[] = {0.1, 0.11, 0.055, 0.065}, dbd_x[] = {-0.1, -0.21, -0.155, -0.09};
  const double rdbd_lr[] = {0.1, 0.11, 0.05, 0.11}, rdbd_x[] = {-0.1, -0.21, -0.16, -0.05};
  for (const bool regret : {false, true}) {
    Scalar p;
    torch::optim::SGD sgd(std::vector<torch::Tensor>{p.x}, torch::optim::SGDOptions(0.1));
    std::unique_ptr<LrAdapter> adapter;
    if (regret) adapter = std::make_unique<RDBD>(sgd, options);
    else adapter = std::make_unique<DeltaBarDelta>(sgd, options);
    for (int t = 0; t < 4; ++t) {
      p.set_grad(grads[t]);
      adapter->step();
      EXPECT_NEAR(adapter->lrs()[0], regret ? rdbd_lr[t] : dbd_lr[t], 1e-15) << "step " << t + 1;
      EXPECT_NEAR(p.value(), regret ? rdbd_x[t] : dbd_x[t], 1e-15) << "step " << t + 1;
    }
    if (regret) EXPECT_EQ(static_cast<RDBD&>(*adapter).regrets(), 2);
  }
}

// SGD-HD, beta 0.01, lr 0.1: gradients 1 then 2: h = 2 * 1, lr 0.12, x = -0.1 - 0.24.
// Adam-HD: after Adam's first step d_1 = m^ / (sqrt(v^) + eps) = 1 / (1 + 1e-8) for g = 1, so the
// second step's lr is 0.1 + beta 2 d_1.
TEST(Hypergradient, MovesTheLrAlongTheGradientsAgreementWithThePreviousStep) {
  Scalar p;
  torch::optim::SGD sgd(std::vector<torch::Tensor>{p.x}, torch::optim::SGDOptions(0.1));
  Hypergradient hd(sgd, HypergradientOptions().beta(0.01));
  p.set_grad(1);
  hd.step();
  p.set_grad(2);
  hd.step();
  EXPECT_NEAR(hd.lrs()[0], 0.12, 1e-15);
  EXPECT_NEAR(p.value(), -0.34, 1e-15);

  Scalar q;
  torch::optim::Adam adam(std::vector<torch::Tensor>{q.x}, torch::optim::AdamOptions(0.1));
  Hypergradient adam_hd(adam, HypergradientOptions().beta(0.01));
  q.set_grad(1);
  adam_hd.step();
  q.set_grad(2);
  adam_hd.step();
  EXPECT_NEAR(adam_hd.lrs()[0], 0.1 + 0.01 * 2 / (1 + 1e-8), 1e-12);
}

TEST(LrAdapter, ClampsTheLrToItsBounds) {
  Scalar p;
  torch::optim::SGD sgd(std::vector<torch::Tensor>{p.x}, torch::optim::SGDOptions(0.1));
  DeltaBarDelta dbd(sgd, DeltaBarDeltaOptions().phi(0.9).bounds(LrBounds().lr_min(1e-3).lr_max(1.0)));
  for (int t = 0; t < 20; ++t) {
    p.set_grad(t % 2 == 0 ? 1 : -1);  // every sign test disagrees: lr falls by 90% each step
    dbd.step();
  }
  EXPECT_DOUBLE_EQ(dbd.lrs()[0], 1e-3);
  Hypergradient hd(sgd, HypergradientOptions().beta(100).bounds(LrBounds().lr_min(1e-3).lr_max(1.0)));
  for (int t = 0; t < 3; ++t) {
    p.set_grad(5);
    hd.step();
  }
  EXPECT_DOUBLE_EQ(hd.lrs()[0], 1.0);
}

TEST(LrAdapter, BadOptionsAndNonFiniteGradientsAreErrors) {
  Scalar p;
  torch::optim::SGD sgd(std::vector<torch::Tensor>{p.x}, torch::optim::SGDOptions(0.1));
  EXPECT_THROW(DeltaBarDelta(sgd, DeltaBarDeltaOptions().phi(1.0)), UsageError);
  EXPECT_THROW(DeltaBarDelta(sgd, DeltaBarDeltaOptions().theta(-0.1)), UsageError);
  EXPECT_THROW(DeltaBarDelta(sgd, DeltaBarDeltaOptions().kappa(NAN)), UsageError);
  EXPECT_THROW(Hypergradient(sgd, HypergradientOptions().beta(-1)), UsageError);
  EXPECT_THROW(RDBD(sgd, DeltaBarDeltaOptions().bounds(LrBounds().lr_min(1).lr_max(0.5))), UsageError);
  Scalar other;
  torch::optim::SGD other_sgd(std::vector<torch::Tensor>{other.x}, torch::optim::SGDOptions(0.1));
  RandomVectorAccelerating rva(other_sgd);
  EXPECT_THROW(RDBD(sgd, {}, &rva), UsageError);  // steps through a wrapper of another optimizer
  RDBD rdbd(sgd);
  p.set_grad(NAN);
  EXPECT_THROW(rdbd.step(), DataError);
}

// RDBD through RandomVectorAccelerating over SGD momentum: ten steps straight, against five, a
// save of all three states and the parameter, a load into fresh objects and five more.
TEST(LrAdapter, SavedStateResumesTheSameTrajectory) {
  const auto grad = [](const torch::Tensor& x, int t) { return torch::cos(3 * x.detach() + t) + 0.3; };
  const auto make = [](torch::Tensor& x) {
    return torch::optim::SGD(std::vector<torch::Tensor>{x}, torch::optim::SGDOptions(0.05).momentum(0.9));
  };
  const auto options = DeltaBarDeltaOptions().kappa(0.01).phi(0.3);
  std::stringstream saved;
  torch::Tensor x = torch::zeros({4}, torch::kDouble).requires_grad_();
  std::vector<double> straight_lrs;
  {
    auto sgd = make(x);
    RandomVectorAccelerating rva(sgd, RandomVectorAcceleratingOptions().seed(5));
    RDBD rdbd(sgd, options, &rva);
    for (int t = 0; t < 10; ++t) {
      x.mutable_grad() = grad(x, t);
      rdbd.step();
      if (t == 4) {
        torch::serialize::OutputArchive out, a, b, c;
        out.write("x", x.detach().clone());
        sgd.save(a), rva.save(b), rdbd.save(c);
        out.write("sgd", a), out.write("rva", b), out.write("rdbd", c);
        out.save_to(saved);
      }
    }
    straight_lrs = rdbd.lrs();
  }
  torch::Tensor y = torch::zeros({4}, torch::kDouble).requires_grad_();
  auto sgd = make(y);
  RandomVectorAccelerating rva(sgd);
  RDBD rdbd(sgd, options, &rva);
  torch::serialize::InputArchive in, a, b, c;
  in.load_from(saved);
  torch::Tensor x5;
  in.read("x", x5);
  {
    torch::NoGradGuard no_grad;
    y.copy_(x5);
  }
  in.read("sgd", a), in.read("rva", b), in.read("rdbd", c);
  sgd.load(a), rva.load(b), rdbd.load(c);
  for (int t = 5; t < 10; ++t) {
    y.mutable_grad() = grad(y, t);
    rdbd.step();
  }
  EXPECT_TRUE(torch::equal(x, y));
  EXPECT_EQ(rdbd.lrs(), straight_lrs);
}

}  // namespace
}  // namespace lmlab::optim
