// The two-layer net of the 1-bit theory: its formula, the antisymmetric start, the shared
// initialisation of the twins, the closed-form NTK against autograd Jacobians, the identity
// E_x f = kappa C_d sum_r a_r / sqrt(m) for bias-free sign rows (Monte Carlo on the sphere against
// the Gamma-function closed form), and the two biases that lift it.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/onebit/two_layer.h"

using namespace lmlab;
using namespace lmlab::onebit;

TEST(TwoLayerNet, ForwardIsTheFormulaWithSignWeights) {
  TwoLayerNet net(TwoLayerOptions(5, 6).kappa(2.0).antisymmetric(false).seed(3));
  const auto x = torch::randn({4, 5});
  const auto expected = torch::relu(x.matmul(torch::where(net->weight >= 0, 1.0, -1.0).t()) / std::sqrt(5.0))
                            .matmul(net->a) * (2.0 / std::sqrt(6.0));
  EXPECT_TRUE(torch::allclose(net(x), expected, 1e-5, 1e-6));
}

TEST(TwoLayerNet, AntisymmetricStartIsZeroAndTwinsShareTheirInitialisation) {
  TwoLayerNet bit(TwoLayerOptions(7, 64).seed(11));
  TwoLayerNet fp(TwoLayerOptions(7, 64).seed(11).quantized(false));
  EXPECT_TRUE(torch::equal(bit->weight, fp->weight));
  EXPECT_TRUE(torch::equal(bit->a, fp->a));
  const auto x = torch::randn({9, 7}, torch::kDouble);
  bit->to(torch::kDouble);
  fp->to(torch::kDouble);
  EXPECT_LT(bit(x).abs().max().item<double>(), 1e-12);
  EXPECT_LT(fp(x).abs().max().item<double>(), 1e-12);
  EXPECT_FALSE(torch::equal(TwoLayerNet(TwoLayerOptions(7, 64).seed(12))->weight, bit->weight));
}

// K = J J^T with J [N, m*d] the (straight-through) Jacobian of f w.r.t. the latent W.
TEST(TwoLayerNet, NtkGramEqualsJacobianProduct) {
  for (const auto [quantized, bias] : {std::pair{true, TwoLayerBias::Output}, std::pair{false, TwoLayerBias::Output},
                                       std::pair{true, TwoLayerBias::Input}, std::pair{false, TwoLayerBias::None}}) {
    TwoLayerNet net(
        TwoLayerOptions(4, 10).kappa(1.5).antisymmetric(false).quantized(quantized).bias(bias).seed(5));
    net->to(torch::kDouble);
    const auto x = torch::randn({6, 4}, torch::kDouble);
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < 6; ++i)
      rows.push_back(torch::autograd::grad({net(x.slice(0, i, i + 1)).sum()}, {net->weight})[0].flatten());
    const auto J = torch::stack(rows);
    EXPECT_TRUE(torch::allclose(net->ntk_gram(x), J.matmul(J.t()), 1e-12, 1e-12))
        << "quantized " << quantized << " bias " << static_cast<int>(bias);
  }
}

TEST(TwoLayerNet, BadOptionsAndInputsAreUsageErrors) {
  EXPECT_THROW(TwoLayerNet(TwoLayerOptions(4, 7)), UsageError);  // odd antisymmetric width
  EXPECT_THROW(TwoLayerNet(TwoLayerOptions(4, 8).kappa(0)), UsageError);
  TwoLayerNet net(TwoLayerOptions(4, 8));
  EXPECT_THROW(net(torch::randn({3, 5})), UsageError);
  EXPECT_THROW(two_layer_bias_from_name("hidden"), UsageError);
  EXPECT_EQ(two_layer_bias_from_name("input"), TwoLayerBias::Input);
}

// n points uniform on the sphere of radius sqrt(d), float64.
torch::Tensor sphere(int64_t n, int64_t d, uint64_t seed) {
  torch::Generator g = torch::make_generator<torch::CPUGeneratorImpl>(seed);
  const auto x = torch::randn({n, d}, g, torch::kDouble);
  return x / x.norm(2, 1, true) * std::sqrt(static_cast<double>(d));
}

TEST(TwoLayerNet, BiasFreeSignRowsHaveOneMeanWhateverTheirSigns) {
  // C_d: d = 1 gives E relu(+-x) over x = +-1, i.e. 1/2; large d tends to 1/sqrt(2 pi).
  EXPECT_NEAR(sign_row_mean_activation(1), 0.5, 1e-12);
  EXPECT_NEAR(sign_row_mean_activation(100000), 1 / std::sqrt(2 * M_PI), 1e-5);
  const int64_t d = 16, m = 8, n = 400000;
  const auto x = sphere(n, d, 1);
  for (uint64_t seed : {1, 2}) {  // two different sign patterns and output signs a
    TwoLayerNet net(TwoLayerOptions(d, m).kappa(1.5).antisymmetric(false).bias(TwoLayerBias::None).seed(seed));
    net->to(torch::kDouble);
    torch::NoGradGuard no_grad;
    const auto f = net(x);
    const double mean = f.mean().item<double>(), stderr_ = f.std().item<double>() / std::sqrt(double(n));
    const double expected = 1.5 * sign_row_mean_activation(d) * net->a.sum().item<double>() / std::sqrt(double(m));
    EXPECT_NEAR(mean, expected, 5 * stderr_) << "seed " << seed << ", sum a = " << net->a.sum().item<double>();
  }
}

// On the constant target y = 1 over many sphere points, a bias-free 1-bit net stays near E f = 0
// (loss 1/2 at the start; it drifts up, not down); either bias fits the constant.
TEST(TwoLayerNet, EitherBiasLetsTheOneBitNetFitAConstant) {
  const int64_t d = 16;
  const auto x = sphere(1024, d, 3);
  const auto y = torch::ones({x.size(0)}, torch::kDouble);
  for (const auto bias : {TwoLayerBias::None, TwoLayerBias::Output, TwoLayerBias::Input}) {
    TwoLayerNet net(TwoLayerOptions(d, 64).bias(bias).seed(4));
    net->to(torch::kDouble);
    torch::optim::SGD opt(net->parameters(), 0.5);
    double loss = 0;
    for (int step = 0; step < 300; ++step) {
      const auto l = 0.5 * (net(x) - y).pow(2).mean();
      loss = l.item<double>();
      opt.zero_grad();
      l.backward();
      opt.step();
    }
    if (bias == TwoLayerBias::None) EXPECT_GT(loss, 0.45) << "no bias";
    else EXPECT_LT(loss, 0.1) << "bias " << static_cast<int>(bias);  // a fifth of the f = 0 start
  }
  EXPECT_EQ(TwoLayerNet(TwoLayerOptions(d, 8).bias(TwoLayerBias::Input))->weight.size(1), d + 1);
}
