// The two-layer net of the 1-bit theory: its formula, the antisymmetric start, the shared
// initialisation of the twins, and the closed-form NTK against autograd Jacobians.
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
  for (bool quantized : {true, false}) {
    TwoLayerNet net(TwoLayerOptions(4, 10).kappa(1.5).antisymmetric(false).quantized(quantized).seed(5));
    net->to(torch::kDouble);
    const auto x = torch::randn({6, 4}, torch::kDouble);
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < 6; ++i)
      rows.push_back(torch::autograd::grad({net(x.slice(0, i, i + 1)).sum()}, {net->weight})[0].flatten());
    const auto J = torch::stack(rows);
    EXPECT_TRUE(torch::allclose(net->ntk_gram(x), J.matmul(J.t()), 1e-12, 1e-12)) << "quantized " << quantized;
  }
}

TEST(TwoLayerNet, BadOptionsAndInputsAreUsageErrors) {
  EXPECT_THROW(TwoLayerNet(TwoLayerOptions(4, 7)), UsageError);  // odd antisymmetric width
  EXPECT_THROW(TwoLayerNet(TwoLayerOptions(4, 8).kappa(0)), UsageError);
  TwoLayerNet net(TwoLayerOptions(4, 8));
  EXPECT_THROW(net(torch::randn({3, 5})), UsageError);
}
