// Protected softmax regression (lmlab/copyright/softmax_regression.h, softmax_solvers.h,
// softmax_data.h): the analytic gradient and Hessian against autograd, the floor guard, the
// solvers' stationary points, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/copyright/softmax_data.h"
#include "lmlab/copyright/softmax_regression.h"
#include "lmlab/copyright/softmax_solvers.h"
#include "lmlab/core/error.h"
#include "support/usage_error.h"

namespace lmlab::copyright {
namespace {

using test_support::usage_error;

SoftmaxRegressionData small_data(uint64_t seed = 3) {
  return make_softmax_data(SoftmaxDataOptions().tasks(5).copyrighted(2).rows(6).dim(4), seed);
}

// F(x) through autograd from softmax_regression_loss: the independent reference.
torch::Tensor autograd_objective(const SoftmaxRegressionData& d, const SoftmaxRegressionOptions& o,
                                 const torch::Tensor& x) {
  const auto losses = softmax_regression_loss(d.a, d.b, x);
  const auto cp = d.copyrighted.to(torch::kDouble);
  const auto l_cp = (losses * cp).sum() / cp.sum();
  const auto l_rest = (losses * (1 - cp)).sum() / (1 - cp).sum();
  const auto fit = o.fit_all() ? losses.mean() : l_rest;
  return fit + o.gamma() / l_cp + 0.5 * o.lambda() * x.dot(x);
}

TEST(SoftmaxRegression, GradientAndHessianMatchAutograd) {
  const auto d = small_data();
  for (const double gamma : {0.0, 0.01, 0.3}) for (const bool fit_all : {false, true}) {
    const auto opt = SoftmaxRegressionOptions().gamma(gamma).lambda(0.05).fit_all(fit_all);
    const SoftmaxRegression f(d, opt);
    for (uint64_t s = 0; s < 3; ++s) {
      torch::manual_seed(s);
      const auto x = torch::randn({4}, torch::kDouble).requires_grad_();
      const auto ref = autograd_objective(d, opt, x);
      const auto g = torch::autograd::grad({ref}, {x}, {}, true, true)[0];
      std::vector<torch::Tensor> rows;
      for (int64_t i = 0; i < 4; ++i) rows.push_back(torch::autograd::grad({g[i]}, {x}, {}, true)[0]);
      const auto h_ref = torch::stack(rows);
      const auto e = f.evaluate(x.detach());
      EXPECT_NEAR(e.value, ref.item<double>(), 1e-12);
      EXPECT_LT((e.grad - g.detach()).abs().max().item<double>(), 1e-10) << "gamma " << gamma;
      EXPECT_LT((e.hessian - h_ref).abs().max().item<double>(), 1e-9) << "gamma " << gamma;
      EXPECT_LT((e.hessian - e.hessian.t()).abs().max().item<double>(), 1e-12);
      EXPECT_GT(e.grad.abs().max().item<double>(), 1e-6);  // not a vacuous comparison
    }
  }
}

TEST(SoftmaxRegression, TauIsCopyrightedMinusRestLoss) {
  const auto d = small_data();
  const auto x = torch::randn({4}, torch::kDouble);
  const auto losses = softmax_regression_loss(d.a, d.b, x);
  const auto e = SoftmaxRegression(d, {}).evaluate(x, 0);
  EXPECT_NEAR(e.l_cp, losses.slice(0, 0, 2).mean().item<double>(), 1e-14);
  EXPECT_NEAR(e.l_rest, losses.slice(0, 2).mean().item<double>(), 1e-14);
  EXPECT_DOUBLE_EQ(e.tau(), e.l_cp - e.l_rest);
}

TEST(SoftmaxRegression, FloorMakesTheProtectionTermConstant) {
  auto d = small_data();
  const auto x = torch::zeros({4}, torch::kDouble);
  // Copyrighted targets equal to the model's output at x = 0: L_cp = 0 exactly.
  d.b.slice(0, 0, 2).fill_(1.0 / 6);
  const auto opt = SoftmaxRegressionOptions().gamma(0.5).lambda(0).loss_floor(1e-4);
  const auto e = SoftmaxRegression(d, opt).evaluate(x);
  EXPECT_EQ(e.l_cp, 0.0);
  EXPECT_TRUE(e.floored);
  EXPECT_NEAR(e.value, e.l_rest + 0.5 / 1e-4, 1e-9);
  const auto e0 = SoftmaxRegression(d, SoftmaxRegressionOptions().lambda(0)).evaluate(x);
  EXPECT_LT((e.grad - e0.grad).abs().max().item<double>(), 1e-15);  // the rest's gradient only
  EXPECT_LT((e.hessian - e0.hessian).abs().max().item<double>(), 1e-15);
}

TEST(SoftmaxSolvers, NewtonAndGradientDescentReachTheSameStationaryPoint) {
  const auto d = small_data();
  const SoftmaxRegression f(d, SoftmaxRegressionOptions().gamma(0.002).lambda(0.01));
  const auto x0 = torch::zeros({4}, torch::kDouble);
  const auto newton = newton_solve(f, x0, SolverOptions().tolerance(1e-10));
  const auto gd = gradient_descent_solve(f, x0, SolverOptions().tolerance(1e-8).max_iterations(200000).initial_step(8));
  ASSERT_TRUE(newton.converged);
  ASSERT_TRUE(gd.converged);
  EXPECT_LE(newton.final.grad.norm().item<double>(), 1e-10);
  EXPECT_LT((newton.x - gd.x).abs().max().item<double>(), 1e-4);
  EXPECT_LT(newton.iterations, gd.iterations);
  // The history: one entry per iterate, F non-increasing (Armijo).
  ASSERT_EQ(newton.values.size(), static_cast<size_t>(newton.iterations + 1));
  for (size_t i = 1; i < gd.values.size(); ++i) EXPECT_LE(gd.values[i], gd.values[i - 1]);
}

TEST(SoftmaxSolvers, ProtectionRaisesTau) {
  const auto d = small_data();
  const auto x0 = torch::zeros({4}, torch::kDouble);
  const auto solve = [&](double gamma) {
    return newton_solve(SoftmaxRegression(d, SoftmaxRegressionOptions().gamma(gamma).lambda(0.01)), x0);
  };
  const auto plain = solve(0), guarded = solve(0.01);
  ASSERT_TRUE(plain.converged && guarded.converged);
  EXPECT_GT(guarded.final.l_cp, plain.final.l_cp);  // a minimiser of F trades L_rest for L_cp
  EXPECT_GT(guarded.final.tau(), plain.final.tau());
}

TEST(SoftmaxRegression, BadInputIsAUsageError) {
  const auto d = small_data();
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(d, SoftmaxRegressionOptions().gamma(-0.1)); }), "gamma");
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(d, SoftmaxRegressionOptions().gamma(NAN)); }), "gamma");
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(d, SoftmaxRegressionOptions().lambda(-1)); }), "lambda");
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(d, SoftmaxRegressionOptions().loss_floor(0)); }), "loss_floor");
  auto empty = d;
  empty.copyrighted = torch::zeros({5}, torch::kBool);
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(empty, {}); }), "copyrighted set is empty");
  auto full = d;
  full.copyrighted = torch::ones({5}, torch::kBool);
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(full, {}); }), "all 5 tasks are copyrighted");
  auto bad_b = d;
  bad_b.b = d.b * 2;
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(bad_b, {}); }), "probability vector");
  auto nan_a = d;
  nan_a.a = d.a.clone();
  nan_a.a[0][0][0] = NAN;
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(nan_a, {}); }), "finite");
  auto float_a = d;
  float_a.a = d.a.to(torch::kFloat);
  EXPECT_MENTIONS(usage_error([&] { SoftmaxRegression(float_a, {}); }), "float64");
  const SoftmaxRegression f(d, {});
  EXPECT_MENTIONS(usage_error([&] { f.evaluate(torch::zeros({3}, torch::kDouble)); }), "[D] = [4]");
  const auto x0 = torch::zeros({4}, torch::kDouble);
  EXPECT_MENTIONS(usage_error([&] { newton_solve(f, x0, SolverOptions().tolerance(0)); }), "tolerance");
  EXPECT_MENTIONS(usage_error([&] { gradient_descent_solve(f, x0, SolverOptions().armijo(0.7)); }), "armijo");
  EXPECT_MENTIONS(usage_error([&] { make_softmax_data(SoftmaxDataOptions().tasks(4).copyrighted(0), 0); }),
                  "copyrighted must be in [1, tasks - 1]");
  EXPECT_MENTIONS(usage_error([&] { make_softmax_data(SoftmaxDataOptions().scale(-1), 0); }), "scale");
}

TEST(SoftmaxData, IsDeterministicAndWellFormed) {
  const auto a = small_data(7), b = small_data(7), c = small_data(8);
  EXPECT_TRUE(torch::equal(a.a, b.a) && torch::equal(a.b, b.b));
  EXPECT_FALSE(torch::equal(a.a, c.a));
  EXPECT_NO_THROW(check_softmax_regression_data(a));
  EXPECT_EQ(a.copyrighted.sum().item<int64_t>(), 2);
}

}  // namespace
}  // namespace lmlab::copyright
