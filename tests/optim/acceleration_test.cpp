// P4's unified direction and its two plug-ins (lmlab/optim/): the exact identities of NOTES.md P4,
// Reject Accelerating's choice on hand-computed SGD-momentum steps, and Random Vector
// Accelerating's expected direction, checked statistically.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/optim/acceleration.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab::optim {
namespace {

TensorList random_list(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({3, 4}, torch::kDouble), torch::randn({5}, torch::kDouble)};
}

torch::Tensor flat(const TensorList& l) {
  TensorList parts;
  for (const auto& t : l) parts.push_back(t.reshape(-1));
  return torch::cat(parts);
}

// (I + s 2 v^ v^T) g on the flattened vectors.
torch::Tensor reflect(const TensorList& g, const TensorList& v, double s) {
  const auto gf = flat(g), vh = flat(v) / flat(v).norm();
  return gf + s * 2 * vh.dot(gf) * vh;
}

TEST(Acceleration, AcceleratesAlongVAndReflectsAgainstIt) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const TensorList g = random_list(2 * seed), v = random_list(2 * seed + 1);
    const double vg = global_dot(v, g), gg = global_dot(g, g);
    const double cos2 = vg * vg / (global_dot(v, v) * gg);
    const auto d = flat(accelerated_direction(g, v));
    const double dg = d.dot(flat(g)).item<double>();
    if (vg >= 0) {
      EXPECT_LT((d - reflect(g, v, 1)).abs().max().item<double>(), 1e-12);
      EXPECT_NEAR(dg, gg * (1 + 2 * cos2), 1e-10 * gg);
    } else {  // Householder reflection: same length, possibly decelerating
      EXPECT_LT((d - reflect(g, v, -1)).abs().max().item<double>(), 1e-12);
      EXPECT_NEAR(d.norm().item<double>(), std::sqrt(gg), 1e-12 * std::sqrt(gg));
      EXPECT_NEAR(dg, gg * (1 - 2 * cos2), 1e-10 * gg);
    }
    // Independent of ||v||.
    const TensorList v5{v[0] * 5e3, v[1] * 5e3};
    EXPECT_LT((flat(accelerated_direction(g, v5)) - d).abs().max().item<double>(), 1e-12);
  }
}

TEST(Acceleration, MismatchedListsAndZeroVAreUsageErrors) {
  const TensorList g = random_list(1);
  EXPECT_THROW(global_dot(g, {g[0]}), UsageError);
  EXPECT_THROW(global_dot(g, {g[0], torch::zeros({4}, torch::kDouble)}), UsageError);
  EXPECT_THROW(accelerated_direction(g, {torch::zeros_like(g[0]), torch::zeros_like(g[1])}), UsageError);
}

// One parameter x of shape [n] under SGD; its gradient is set by hand before each step.
struct Problem {
  torch::Tensor x;
  torch::optim::SGD sgd;
  Problem(int64_t n, double lr, double momentum)
      : x(torch::zeros({n}, torch::kDouble).requires_grad_()),
        sgd(std::vector<torch::Tensor>{x}, torch::optim::SGDOptions(lr).momentum(momentum)) {}
  void set_grad(const torch::Tensor& g) { x.mutable_grad() = g.clone(); }
};

// SGD momentum 0.9, lr 0.5. Step 1, g = +1: buffer b = 1, x = -0.5. Step 2, g = -1: b = 0.9 - 1 =
// -0.1, base step u = lr b = -0.05; a = u / lr - g = 0.9 > 0 against g < 0: <a, g> = -0.9 < 0, so
// RA takes x - lr g = -0.5 + 0.5 = 0 instead of -0.45. With g = +1 again, <a, g> = 0.9 > 0: the base
// step stands (b = 1.9, x = -0.5 - 0.95).
TEST(RejectAccelerating, RejectsAMomentumTermAgainstTheGradient) {
  for (const double g2 : {-1.0, 1.0}) {
    Problem p(1, 0.5, 0.9);
    RejectAccelerating ra(p.sgd);
    p.set_grad(torch::ones({1}, torch::kDouble));
    ra.step();
    EXPECT_DOUBLE_EQ(p.x.item<double>(), -0.5);
    EXPECT_EQ(ra.rejected(), 0);  // first step: b = g, a = 0
    p.set_grad(torch::full({1}, g2, torch::kDouble));
    ra.step();
    if (g2 < 0) {
      EXPECT_DOUBLE_EQ(p.x.item<double>(), 0.0);
      EXPECT_EQ(ra.rejected(), 1);
    } else {
      EXPECT_DOUBLE_EQ(p.x.item<double>(), -0.5 - 0.95);
      EXPECT_EQ(ra.rejected(), 0);
    }
  }
}

// Over plain SGD, a = u / lr - g is the rounding of the observed step u: with float32 weights of
// size 100 and steps of 1e-4 it is about 1e-2 of the step, far above 1e-9 ||g||, and half of its
// inner products with g are negative; none of them is a rejection.
TEST(RejectAccelerating, RoundingOfLargeWeightsIsNoAccelerationToReject) {
  torch::Generator gen = torch::make_generator<torch::CPUGeneratorImpl>(3);
  const auto x = (100 + torch::rand({1000}, gen)).requires_grad_();
  torch::optim::SGD sgd(std::vector<torch::Tensor>{x}, torch::optim::SGDOptions(1e-4));
  RejectAccelerating ra(sgd);
  for (int step = 0; step < 20; ++step) {
    x.mutable_grad() = torch::randn({1000}, gen);
    ra.step();
  }
  EXPECT_EQ(ra.rejected(), 0);
}

// E[d] = (1 + 2 / n) g for the step d of RVA over SGD at lr 1 (base step u = g), full space and a
// k = 2 subspace. Each coordinate of d - g = 2 <v^, g> v^ lies in [-2, 2] for ||g|| = 1, so by
// Hoeffding the mean of N draws is within t of its expectation except with probability
// 2 exp(-2 N t^2 / 4^2): N = 20000, t = 0.06 gives 2.5e-4 per coordinate, 1e-3 over the n = 4
// coordinates (the draws are seeded, so the test is deterministic).
TEST(RandomVectorAccelerating, ExpectedDirectionIsOnePlusTwoOverDimTimesTheStep) {
  const int64_t n = 4, draws = 20000;
  const auto g = torch::tensor({0.5, -0.5, 0.5, 0.5}, torch::kDouble);  // ||g|| = 1
  for (const int64_t k : {0, 2}) {
    Problem p(n, 1.0, 0.0);
    RandomVectorAccelerating rva(p.sgd, RandomVectorAcceleratingOptions().seed(7).subspace_dim(k));
    auto sum = torch::zeros({n}, torch::kDouble);
    for (int64_t i = 0; i < draws; ++i) {
      {
        torch::NoGradGuard no_grad;
        p.x.zero_();
      }
      p.set_grad(g);
      rva.step();
      const auto d = -p.x.detach();
      ASSERT_GE(d.dot(g).item<double>(), 1.0 - 1e-12);  // always the accelerating branch
      sum += d;
    }
    const auto mean = sum / draws, want = (1.0 + 2.0 / n) * g;
    EXPECT_LT((mean - want).abs().max().item<double>(), 0.06) << "k = " << k << ": mean " << mean;
  }
}

// Ten steps straight, against five steps, a save (base optimizer, wrapper, parameters), a load
// into fresh objects (whose seed the saved generator state replaces) and five more.
TEST(RandomVectorAccelerating, SavedStateResumesTheSameTrajectory) {
  const auto grad = [](const Problem& p, int i) { return torch::sin(p.x.detach() + i) + 1; };
  std::stringstream saved;
  Problem straight(6, 0.1, 0.9);
  {
    RandomVectorAccelerating rva(straight.sgd, RandomVectorAcceleratingOptions().seed(3));
    for (int i = 0; i < 10; ++i) {
      straight.set_grad(grad(straight, i));
      rva.step();
      if (i == 4) {
        torch::serialize::OutputArchive out, base, wrapper;
        out.write("x", straight.x.detach().clone());
        straight.sgd.save(base);
        rva.save(wrapper);
        out.write("base", base);
        out.write("wrapper", wrapper);
        out.save_to(saved);
      }
    }
  }
  Problem resumed(6, 0.1, 0.9);
  RandomVectorAccelerating rva(resumed.sgd, RandomVectorAcceleratingOptions().seed(99));
  torch::serialize::InputArchive in, base, wrapper;
  in.load_from(saved);
  torch::Tensor x;
  in.read("x", x);
  {
    torch::NoGradGuard no_grad;
    resumed.x.copy_(x);
  }
  in.read("base", base);
  in.read("wrapper", wrapper);
  resumed.sgd.load(base);
  rva.load(wrapper);
  EXPECT_EQ(rva.steps(), 5);
  for (int i = 5; i < 10; ++i) {
    resumed.set_grad(grad(resumed, i));
    rva.step();
  }
  EXPECT_TRUE(torch::equal(straight.x, resumed.x));
}

TEST(RandomVectorAccelerating, NegativeSubspaceIsAUsageError) {
  Problem p(2, 0.1, 0.0);
  EXPECT_THROW(RandomVectorAccelerating(p.sgd, RandomVectorAcceleratingOptions().subspace_dim(-1)), UsageError);
}

}  // namespace
}  // namespace lmlab::optim
