// DP-SGD and Gaussian gradient noise: clipping bounds every example's norm; without noise the step
// is the mean clipped gradient (exact identity against a per-example loop); the noise has the
// stated mean and variance; Poisson batches have mean q N; NaN gradients are named errors; any
// optimizer (LibTorch's, lmlab's plug-ins) runs underneath; bad options are UsageErrors.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"
#include "lmlab/privacy/dp_sgd.h"
#include "lmlab/privacy/gradient_noise.h"
#include "lmlab/privacy/per_example_grads.h"
#include "support/step_memory.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

torch::Tensor flat_grad(torch::nn::Module& m) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : m.parameters()) parts.push_back(p.grad().reshape(-1));
  return torch::cat(parts);
}

TEST(DPSGD, ClippingBoundsEveryExample) {
  torch::manual_seed(1);
  torch::nn::Linear lin(6, 4);
  const auto x = torch::randn({8, 6}) * torch::linspace(0.01, 10, 8).unsqueeze(1);  // norms from tiny to large
  const PerExampleGrads pe = per_example_gradients(*lin, lin(x).pow(2).sum(1));
  const auto norms = per_example_norms(pe);
  const double c = 1.0;
  for (int64_t i = 0; i < 8; ++i) {
    std::vector<torch::Tensor> one;
    for (const auto& g : pe.grads) one.push_back(g.slice(0, i, i + 1));
    const auto clipped = clipped_sum(one, norms.slice(0, i, i + 1), c);
    double sq = 0;
    for (const auto& t : clipped) sq += t.pow(2).sum().item<double>();
    const double n = norms[i].item<double>();
    EXPECT_LE(std::sqrt(sq), c * (1 + 1e-6)) << "example " << i;
    if (n < c) EXPECT_NEAR(std::sqrt(sq), n, 1e-5 * n) << "below C an example is left as it is";
    else EXPECT_NEAR(std::sqrt(sq), c, 1e-5) << "above C it is scaled onto the sphere";
  }
  EXPECT_GT((norms > c).sum().item<int64_t>(), 0);
  EXPECT_GT((norms < c).sum().item<int64_t>(), 0);
}

// sigma 0, q 1, N = B: the step's gradient is the mean of the clipped per-example gradients.
TEST(DPSGD, NoiselessStepIsMeanClippedGradient) {
  torch::manual_seed(2);
  torch::nn::Linear lin(5, 3);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  const auto x = torch::randn({6, 5}) * 3, y = torch::randn({6, 3});
  const auto losses = [&] { return (lin(x) - y).pow(2).sum(1); };
  // Reference: one backward per example, clipped, averaged.
  std::vector<torch::Tensor> before, ref;
  for (const auto& p : lin->parameters()) before.push_back(p.detach().clone());
  torch::Tensor mean;
  for (int64_t i = 0; i < 6; ++i) {
    lin->zero_grad();
    losses()[i].backward();
    auto g = flat_grad(*lin);
    g = g * std::min(1.0, 0.5 / (g.norm().item<double>() + 1e-6));
    mean = mean.defined() ? mean + g / 6 : g / 6;
  }
  DPSGD dp(*lin, sgd, DPSGDOptions(0.0, 0.5, 1.0, 6));
  const DPStepStats s = dp.step(losses());
  EXPECT_EQ(s.batch, 6);
  EXPECT_LE((flat_grad(*lin) - mean).abs().max().item<double>(), 1e-6);
  size_t k = 0;
  for (const auto& p : lin->parameters()) {
    EXPECT_LE((p.detach() - (before[k] - 0.1 * p.grad())).abs().max().item<double>(), 1e-6);
    ++k;
  }
}

// N(0, s^2) noise on n = 90000 zeros: the sample mean has sd s/sqrt(n), the sample variance sd
// s^2 sqrt(2/n); both are checked at 5 sd (a false failure has probability < 1e-6).
void expect_gaussian(const torch::Tensor& z, double s) {
  const double n = static_cast<double>(z.numel());
  EXPECT_LE(std::fabs(z.mean().item<double>()), 5 * s / std::sqrt(n));
  EXPECT_LE(std::fabs(z.var().item<double>() - s * s), 5 * s * s * std::sqrt(2 / n));
}

TEST(GradientNoise, MeanAndVariance) {
  GaussianGradientNoise noise(GradientNoiseOptions(0.5).seed(3));
  const auto out = noise.apply({torch::zeros({300, 300}, torch::kDouble), torch::Tensor()});
  expect_gaussian(out[0], 0.5);
  EXPECT_FALSE(out[1].defined());
  const auto g = torch::randn({10});
  EXPECT_TRUE(GaussianGradientNoise(GradientNoiseOptions(0.0)).apply({g})[0].equal(g));
  EXPECT_MENTIONS(test_support::usage_error([] { GaussianGradientNoise(GradientNoiseOptions(-1)); }), "std = -1");
}

// An empty Poisson sample: the gradient is noise alone, N(0, (sigma C / (q N))^2).
TEST(DPSGD, EmptyBatchStepIsNoiseWithStatedVariance) {
  torch::nn::Linear lin(torch::nn::LinearOptions(300, 300).bias(false));
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.0));
  DPSGD dp(*lin, sgd, DPSGDOptions(1.5, 2.0, 0.01, 1000).seed(4));
  EXPECT_EQ(dp.step(torch::Tensor()).batch, 0);
  expect_gaussian(lin->weight.grad().to(torch::kDouble), 1.5 * 2.0 / (0.01 * 1000));
}

TEST(DPSGD, PoissonBatchesHaveMeanQN) {
  torch::nn::Linear lin(2, 1);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  DPSGD dp(*lin, sgd, DPSGDOptions(1.0, 1.0, 0.1, 1000).seed(5));
  double total = 0;
  for (int r = 0; r < 200; ++r) {
    const auto idx = dp.sample_batch();
    ASSERT_TRUE(idx.numel() == 0 || (idx.min().item<int64_t>() >= 0 && idx.max().item<int64_t>() < 1000));
    total += static_cast<double>(idx.numel());
  }
  // Binomial(1000, 0.1): variance 90; the mean of 200 draws has sd 0.67, checked at 4 sd.
  EXPECT_NEAR(total / 200, 100.0, 4 * std::sqrt(90.0 / 200));
}

TEST(DPSGD, NanGradientNamesTheStepAndLeavesParameters) {
  torch::nn::Linear lin(3, 1);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  DPSGD dp(*lin, sgd, DPSGDOptions(1.0, 1.0, 0.5, 8));
  const auto x = torch::randn({4, 3});
  dp.step(lin(x).pow(2).sum(1));
  const auto w = lin->weight.detach().clone();
  {
    torch::NoGradGuard g;
    lin->weight.zero_();
    lin->bias.zero_();
  }
  try {  // d sqrt(|0|) / d out = NaN
    dp.step(lin(x).abs().sqrt().sum(1));
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_MENTIONS(std::string(e.what()), "step 2");
    EXPECT_MENTIONS(std::string(e.what()), "NaN");
    EXPECT_MENTIONS(std::string(e.what()), "parameter '");
  }
  EXPECT_EQ(dp.steps(), 1);
  EXPECT_EQ(lin->weight.abs().sum().item<double>(), 0.0) << "nothing changed";
  try {
    dp.step(torch::full({4}, NAN, torch::kFloat).requires_grad_());
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_MENTIONS(std::string(e.what()), "step 2: a per-example loss is NaN");
  }
}

TEST(DPSGD, AnyOptimizerUnderneathAndAccounting) {
  torch::manual_seed(6);
  torch::nn::Linear lin(4, 2);
  const auto x = torch::randn({5, 4});
  torch::optim::Adam adam(lin->parameters(), torch::optim::AdamOptions(0.01));
  DPSGD dp_adam(*lin, adam, DPSGDOptions(1.1, 1.0, 0.05, 100));
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.05));
  optim::RDBD rdbd(sgd);
  DPSGD dp_rdbd(*lin, rdbd, DPSGDOptions(1.1, 1.0, 0.05, 100));
  torch::optim::SGD sgd2(lin->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  optim::RejectAccelerating reject(sgd2);
  DPSGD dp_reject(*lin, reject, DPSGDOptions(1.1, 1.0, 0.05, 100));
  for (int t = 0; t < 3; ++t)
    for (DPSGD* dp : {&dp_adam, &dp_rdbd, &dp_reject}) {
      const auto w = lin->weight.detach().clone();
      dp->step(lin(x).pow(2).sum(1));
      EXPECT_FALSE(lin->weight.detach().equal(w));
    }
  EXPECT_EQ(reject.steps(), 3);
  EXPECT_DOUBLE_EQ(dp_adam.spent(1e-5).epsilon, dp_sgd_epsilon(1.1, 0.05, 3, 1e-5).epsilon);
}

// The per-example gradients dominate a DP-SGD step on a wide linear layer: the estimate at the
// expected batch (q N = 256) against the allocator's peak of the step, within a factor 2; refused
// when the DP-SGD is made above the limit.
TEST(DPSGD, PerExampleMemoryEstimateHoldsAndIsEnforced) {
  torch::manual_seed(6);
  torch::nn::Linear lin(256, 256);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  const auto options = DPSGDOptions(1.0, 1.0, 0.5, 512);
  const double parameters = 256.0 * 257.0, estimate = 8.0 * 256 * parameters;
  DPSGD dp(*lin, sgd, options);
  const auto x = torch::randn({256, 256});
  test_support::expect_estimate_holds(estimate, [&] { dp.step(lin(x).pow(2).sum(1)); }, "DP-SGD");
  test_support::expect_refused(estimate, [&] { DPSGD(*lin, sgd, options); });
}

// Found by the pyargs fuzz target: losses that were not one per example reached a raw LibTorch
// error, and a huge dataset size an 8 TiB allocation.
TEST(DPSGD, LossesNotOnePerExampleAndHugeDatasetsAreUsageErrors) {
  torch::nn::Linear lin(3, 2);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  DPSGD dp(*lin, sgd, DPSGDOptions(1.0, 1.0, 0.5, 10));
  const auto x = torch::randn({4, 3});
  EXPECT_MENTIONS(test_support::usage_error([&] { dp.step(lin(x)); }), "per-example losses [B]");
  EXPECT_MENTIONS(test_support::usage_error([&] { dp.step(torch::ones({4}, torch::kLong)); }), "per-example losses [B]");
  EXPECT_EQ(dp.steps(), 0);
  // Found by the pyargs fuzz target: N = 2^40 asked for 8 TiB in sample_batch.
  EXPECT_MENTIONS(test_support::usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, 1.0, 1e-9, int64_t{1} << 40)); }),
                  "Poisson sampling over N");
}

TEST(DPSGD, BadOptionsAreUsageErrors) {
  using test_support::usage_error;
  torch::nn::Linear lin(2, 1);
  torch::optim::SGD sgd(lin->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, 0.0, 0.1, 10)); }), "C = 0");
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, -2.0, 0.1, 10)); }), "C = -2");
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(-1.0, 1.0, 0.1, 10)); }), "sigma = -1");
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, 1.0, 0.0, 10)); }), "q = 0");
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, 1.0, 1.5, 10)); }), "q = 1.5");
  EXPECT_MENTIONS(usage_error([&] { DPSGD(*lin, sgd, DPSGDOptions(1.0, 1.0, 0.1, 0)); }), "N = 0");
  DPSGD noiseless(*lin, sgd, DPSGDOptions(0.0, 1.0, 0.1, 10));
  noiseless.step(lin(torch::randn({2, 2})).sum(1));
  EXPECT_MENTIONS(usage_error([&] { noiseless.spent(1e-5); }), "no finite epsilon");
  EXPECT_MENTIONS(usage_error([&] { clipped_sum({torch::ones({2, 3})}, torch::ones({2}), 0.0); }), "C = 0");
}

}  // namespace
}  // namespace lmlab::privacy
