// The finite-difference gradient checker (support/gradcheck.h) accepts a correct gradient and
// rejects a wrong one and a vacuous check.
#include <gtest/gtest.h>

#include "support/gradcheck.h"

using lmlab::test_support::gradients_match_finite_differences;

namespace {
// y = x^3 elementwise with a backward that is off by a factor of two: 6 x^2 instead of 3 x^2.
struct WrongCube : torch::autograd::Function<WrongCube> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return x.pow(3);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    const auto x = ctx->get_saved_variables()[0];
    return {grad[0] * 6 * x.pow(2)};
  }
};
}  // namespace

TEST(GradCheck, AcceptsAutogradOfASmoothFunction) {
  torch::manual_seed(0);
  auto x = torch::randn({4, 5}, torch::kDouble).requires_grad_();
  auto w = torch::randn({5}, torch::kDouble).requires_grad_();
  EXPECT_TRUE(gradients_match_finite_differences([&] { return (x.tanh() * w).pow(3).sum(); }, {x, w}, {"x", "w"}));
}

TEST(GradCheck, RejectsAWrongCustomBackward) {
  auto x = torch::linspace(0.5, 2.0, 6, torch::kDouble).requires_grad_();
  const auto result = gradients_match_finite_differences([&] { return WrongCube::apply(x).sum(); }, {x}, {"x"});
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("x[0]"), std::string::npos) << result.message();
}

TEST(GradCheck, RejectsAVacuousCheck) {
  auto x = torch::randn({3}, torch::kDouble).requires_grad_();
  const auto result = gradients_match_finite_differences([&] { return (x * 0).sum(); }, {x}, {"x"});
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("vacuous"), std::string::npos);
}

TEST(GradCheck, RejectsFloatTensors) {
  auto x = torch::randn({3}).requires_grad_();
  EXPECT_FALSE(gradients_match_finite_differences([&] { return x.sum(); }, {x}, {"x"}));
}
