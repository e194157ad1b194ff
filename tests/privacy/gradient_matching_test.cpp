// Gradient matching (lmlab/privacy/gradient_matching.h): the distances against their formulas, the
// soft cross-entropy against LibTorch's, the matching objective's derivative (double backward)
// against finite differences, and the float32 ViT (flash attention kernel) against its float64 twin
// (composed attention ops).
#include <gtest/gtest.h>

#include "attack_fixtures.h"
#include "lmlab/models/vit.h"
#include "lmlab/privacy/gradient_matching.h"
#include "support/gradcheck.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

TEST(GradientMatching, DistancesMatchTheirFormulas) {
  torch::manual_seed(0);
  const TensorList d{torch::randn({3, 2}, torch::kDouble), torch::randn({4}, torch::kDouble)};
  const TensorList g{torch::randn({3, 2}, torch::kDouble), torch::randn({4}, torch::kDouble)};
  const auto fd = torch::cat({d[0].flatten(), d[1]}), fg = torch::cat({g[0].flatten(), g[1]});
  EXPECT_NEAR(gradient_distance(d, g, GradientDistance::SquaredL2).item<double>(), (fd - fg).pow(2).sum().item<double>(), 1e-12);
  EXPECT_NEAR(gradient_distance(d, g, GradientDistance::SquaredL2PlusL1, 0.3).item<double>(),
              ((fd - fg).pow(2).sum() + 0.3 * (fd - fg).abs().sum()).item<double>(), 1e-12);
  EXPECT_NEAR(gradient_distance(d, g, GradientDistance::Cosine).item<double>(),
              1 - (fd.dot(fg) / (fd.norm() * fg.norm())).item<double>(), 1e-12);
  // An undefined dummy entry is left out.
  EXPECT_NEAR(gradient_distance({torch::Tensor(), d[1]}, g, GradientDistance::SquaredL2).item<double>(),
              (d[1] - g[1]).pow(2).sum().item<double>(), 1e-12);
  EXPECT_MENTIONS(test_support::usage_error([&] { gradient_distance({torch::Tensor(), torch::Tensor()}, g, GradientDistance::Cosine); }),
                  "nothing to match");
  EXPECT_MENTIONS(test_support::usage_error([&] { gradient_distance({d[1], d[0]}, g, GradientDistance::SquaredL2); }),
                  "shape");
}

TEST(GradientMatching, SoftCrossEntropyMatchesLibTorch) {
  torch::manual_seed(1);
  const auto logits = torch::randn({5, 7}, torch::kDouble), label_logits = torch::randn({5, 7}, torch::kDouble);
  const auto labels = torch::tensor({0, 6, 3, 3, 1});
  EXPECT_NEAR(soft_cross_entropy(logits, labels).item<double>(),
              torch::nn::functional::cross_entropy(logits, labels).item<double>(), 1e-12);
  const auto p = torch::softmax(label_logits, 1);
  EXPECT_NEAR(soft_cross_entropy(logits, label_logits).item<double>(),
              (-(p * torch::log_softmax(logits, 1)).sum(1)).mean().item<double>(), 1e-12);
  // Very confident label logits approach the hard label.
  EXPECT_NEAR(soft_cross_entropy(logits, 100 * torch::one_hot(labels, 7).to(torch::kDouble)).item<double>(),
              soft_cross_entropy(logits, labels).item<double>(), 1e-9);
  EXPECT_MENTIONS(test_support::usage_error([&] { soft_cross_entropy(logits, torch::tensor({0, 9, 1, 1, 1})); }), "[0, 7)");
}

TEST(GradientMatching, ObjectiveDerivativeMatchesFiniteDifferences) {
  test_fixtures::TinyClassifier net(3, 5, 4, 2, torch::kDouble);
  const auto x_true = torch::rand({2, 1, 3, 3}, torch::kDouble);
  const TensorList target = victim_gradients(net.victim, x_true, torch::tensor({1, 3}));
  for (auto distance : {GradientDistance::SquaredL2, GradientDistance::Cosine, GradientDistance::SquaredL2PlusL1}) {
    const auto x = torch::rand({2, 1, 3, 3}, torch::kDouble).requires_grad_();
    const auto y = torch::randn({2, 4}, torch::kDouble).requires_grad_();
    EXPECT_TRUE(test_support::gradients_match_finite_differences(
        [&] { return gradient_distance(victim_gradients(net.victim, x, y, true), target, distance, 0.1); }, {x, y},
        {"x", "label logits"}));
  }
}

TEST(GradientMatching, Float32ViTDoubleBackwardMatchesFloat64) {
  // The float32 ViT runs the flash attention kernel, the float64 copy LibTorch's composed ops; the
  // attack differentiates through the gradient, so both second derivatives must agree.
  torch::manual_seed(4);
  ViT f32(ViTOptions().image(8).patch(4).classes(3).layers(1).heads(2).width(8).mlp_ratio(2));
  ViT f64(ViTOptions().image(8).patch(4).classes(3).layers(1).heads(2).width(8).mlp_ratio(2));
  {
    torch::NoGradGuard no_grad;
    const auto src = f32->parameters();
    f64->to(torch::kDouble);
    const auto dst = f64->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }
  const auto v32 = classifier_victim(f32->parameters(), [m = f32](const torch::Tensor& x) mutable { return m->forward(x); });
  const auto v64 = classifier_victim(f64->parameters(), [m = f64](const torch::Tensor& x) mutable { return m->forward(x); });
  const auto x_true = torch::rand({2, 1, 8, 8}, torch::kDouble), labels = torch::tensor({0, 2});
  const auto t64 = victim_gradients(v64, x_true, labels);
  TensorList t32;
  for (const auto& t : t64) t32.push_back(t.to(torch::kFloat));
  const auto x64 = torch::rand({2, 1, 8, 8}, torch::kDouble).requires_grad_();
  const auto x32 = x64.detach().to(torch::kFloat).requires_grad_();
  const auto g64 = torch::autograd::grad(
      {gradient_distance(victim_gradients(v64, x64, labels, true), t64, GradientDistance::SquaredL2)}, {x64})[0];
  const auto g32 = torch::autograd::grad(
      {gradient_distance(victim_gradients(v32, x32, labels, true), t32, GradientDistance::SquaredL2)}, {x32})[0];
  const double rel = (g32.to(torch::kDouble) - g64).norm().item<double>() / g64.norm().item<double>();
  EXPECT_GT(g64.norm().item<double>(), 0);
  EXPECT_LT(rel, 1e-4);  // float32 rounding over a few hundred operations
}

TEST(GradientMatching, SetupValidationNamesTheProblem) {
  test_fixtures::TinyClassifier net(3, 5, 4, 2);
  const auto target = victim_gradients(net.victim, torch::rand({1, 1, 3, 3}), torch::tensor({1}));
  EXPECT_MENTIONS(test_support::usage_error([&] { AttackSetup().validate(net.victim, target); }), "input shape");
  EXPECT_MENTIONS(test_support::usage_error([&] { AttackSetup({1, 1, 3, 3}).validate(net.victim, target); }),
                  "label-logit shape");
  EXPECT_MENTIONS(test_support::usage_error([&] {
                    AttackSetup({1, 1, 3, 3}).label_shape({1, 4}).validate(net.victim, {target[0]});
                  }),
                  "same order");
  EXPECT_MENTIONS(test_support::usage_error([&] {
                    AttackSetup({2, 1, 3, 3}).labels(torch::tensor({1})).validate(net.victim, target);
                  }),
                  "one entry per example");
  auto bad = target;
  bad[0] = bad[0].clone();
  bad[0][0][0] = std::nan("");
  EXPECT_THROW(AttackSetup({1, 1, 3, 3}).label_shape({1, 4}).validate(net.victim, bad), DataError);
}

}  // namespace
}  // namespace lmlab::privacy
