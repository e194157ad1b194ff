// iDLG (lmlab/privacy/idlg.h): the label rule as an exact identity on a linear + softmax layer, and
// the whole attack on a tiny MLP.
#include <gtest/gtest.h>

#include "attack_fixtures.h"
#include "lmlab/privacy/idlg.h"
#include "lmlab/privacy/image_metrics.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

TEST(Idlg, LastLayerGradientIsOuterProductAndRevealsTheLabel) {
  torch::manual_seed(3);
  const int64_t k = 6, f = 5;
  for (int64_t trial = 0; trial < 20; ++trial) {
    const auto w = torch::randn({k, f}, torch::kDouble).requires_grad_(), b = torch::randn({k}, torch::kDouble).requires_grad_();
    const auto h_relu = torch::relu(torch::randn({1, f}, torch::kDouble)) + 1e-3;  // sum > 0
    const auto h_ln = torch::randn({1, f}, torch::kDouble);
    const auto h_centred = h_ln - h_ln.mean();  // sums to 0, as after a LayerNorm
    const int64_t y = trial % k;
    for (const auto& h : {h_relu, h_centred}) {
      const auto z = torch::addmm(b, h, w.t());
      const auto grads = torch::autograd::grad({soft_cross_entropy(z, torch::tensor({y}))}, {w, b});
      const auto p = torch::softmax(z, 1)[0].detach();
      const auto coeff = p - torch::one_hot(torch::tensor(y), k).to(torch::kDouble);
      EXPECT_TRUE(torch::allclose(grads[0], torch::outer(coeff, h[0]), 1e-12, 1e-12));  // (p - y) h^T
      EXPECT_TRUE(torch::allclose(grads[1], coeff, 1e-12, 1e-12));
      EXPECT_EQ(idlg_label_from_bias(grads[1]), y);
    }
    // Row-sum rule: exact when the features sum to a positive number.
    const auto z = torch::addmm(b, h_relu, w.t());
    const auto gw = torch::autograd::grad({soft_cross_entropy(z, torch::tensor({y}))}, {w})[0];
    EXPECT_EQ(idlg_label_from_weight(gw), y);
  }
}

TEST(Idlg, AttackRecoversTheImageWithTheInferredLabel) {
  test_fixtures::TinyClassifier net(3, 6, 4, 9);
  const auto x = torch::rand({1, 1, 3, 3}), y = torch::tensor({1});
  const auto target = victim_gradients(net.victim, x, y);
  // Parameters: fc0.weight, fc0.bias, fc1.weight, fc1.bias.
  for (int64_t bias : {-1, 3}) {
    const auto r = idlg(net.victim, target, AttackSetup({1, 1, 3, 3}).seed(3), 2, bias, DlgOptions().iterations(30));
    EXPECT_EQ(r.labels[0].item<int64_t>(), 1);
    EXPECT_FALSE(r.label_logits.defined());
    EXPECT_LT(image_mse(r.inputs, x)[0].item<double>(), 1e-3);
  }
  EXPECT_MENTIONS(test_support::usage_error([&] { idlg(net.victim, target, AttackSetup({2, 1, 3, 3}), 2); }),
                  "batch 1 only");
  EXPECT_MENTIONS(test_support::usage_error([&] { idlg(net.victim, target, AttackSetup({1, 1, 3, 3}), 9); }),
                  "head indices");
}

}  // namespace
}  // namespace lmlab::privacy
