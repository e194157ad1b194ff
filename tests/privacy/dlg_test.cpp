// DLG (lmlab/privacy/dlg.h) on a tiny tanh MLP: from one batch's gradient it must recover the
// inputs and labels. 9 + 4 unknowns per example face 9*6 + 6 + 6*4 + 4 = 88 gradient equations,
// so the true input is the unique exact match for batch 1 (and for batch 2 up to the order of the
// examples); the bound MSE < 1e-3 (PSNR > 30 dB) leaves room for an L-BFGS that stopped early and
// fails for a wrong image (random images are ~0.17 MSE apart).
#include <gtest/gtest.h>

#include "attack_fixtures.h"
#include "lmlab/privacy/dlg.h"
#include "lmlab/privacy/image_metrics.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

TEST(Dlg, RecoversImageAndLabelOfOneExample) {
  test_fixtures::TinyClassifier net(3, 6, 4, 7);
  const auto x = torch::rand({1, 1, 3, 3}), y = torch::tensor({2});
  const auto target = victim_gradients(net.victim, x, y);
  const auto r = dlg(net.victim, target, AttackSetup({1, 1, 3, 3}).label_shape({1, 4}).seed(1), DlgOptions().iterations(30));
  EXPECT_FALSE(r.diverged);
  EXPECT_LT(image_mse(r.inputs, x)[0].item<double>(), 1e-3);
  EXPECT_EQ(r.labels[0].item<int64_t>(), 2);
  ASSERT_GE(r.loss_history.size(), 2u);
  EXPECT_LT(r.loss_history.back(), 1e-3 * r.loss_history.front());
}

TEST(Dlg, RecoversABatchOfTwoUpToOrder) {
  test_fixtures::TinyClassifier net(3, 6, 4, 8);
  const auto x = torch::rand({2, 1, 3, 3}), y = torch::tensor({0, 3});
  const auto target = victim_gradients(net.victim, x, y);
  const auto r = dlg(net.victim, target, AttackSetup({2, 1, 3, 3}).labels(y).seed(2), DlgOptions().iterations(40));
  const auto direct = image_mse(r.inputs, x), swapped = image_mse(r.inputs.flip(0), x);
  EXPECT_LT(std::min(direct.max().item<double>(), swapped.max().item<double>()), 1e-3);
}

TEST(Dlg, OptionsAreValidated) {
  EXPECT_MENTIONS(test_support::usage_error([] { DlgOptions().iterations(0).validate(); }), "iterations");
  EXPECT_MENTIONS(test_support::usage_error([] { DlgOptions().lr(-1).validate(); }), "lr");
  EXPECT_MENTIONS(test_support::usage_error([] { DlgOptions().history(0).validate(); }), "history");
}

}  // namespace
}  // namespace lmlab::privacy
