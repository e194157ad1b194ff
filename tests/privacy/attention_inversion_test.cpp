// Attention inversion (P7): the analytic gradient and Jacobian against autograd, F's invariance
// under W-isometries, both solvers on a planted problem, and bad input.
#include <gtest/gtest.h>

#include "lmlab/privacy/attention_inversion.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

struct Planted {
  torch::Tensor w, x0, b;
};

// W = Q K^T / sqrt(d), X0 entries N(0, 1/d): logits of order 1 (the experiment's scaling).
Planted planted(int64_t d, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const auto opt = torch::TensorOptions().dtype(torch::kDouble);
  Planted p;
  p.w = torch::randn({d, d}, opt).matmul(torch::randn({d, d}, opt).t()) / std::sqrt(static_cast<double>(d));
  p.x0 = torch::randn({d, n}, opt) / std::sqrt(static_cast<double>(d));
  p.b = attention_map(p.x0, p.w);
  return p;
}

TEST(AttentionInversion, GradientMatchesAutograd) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const Planted p = planted(4, 7, seed);
    const auto x = (torch::randn_like(p.x0) * 0.8).requires_grad_();
    const auto b = attention_map(torch::randn_like(p.x0), p.w);
    for (double lambda : {0.0, 0.3}) {
      const auto auto_grad = torch::autograd::grad({inversion_loss(x, p.w, b, lambda)}, {x})[0];
      const auto ours = inversion_gradient(x.detach(), p.w, b, lambda);
      EXPECT_LE((ours - auto_grad).abs().max().item<double>(), 1e-12 * std::max(1.0, auto_grad.abs().max().item<double>()));
    }
  }
}

TEST(AttentionInversion, JacobianMatchesAutograd) {
  const Planted p = planted(3, 5, 7);
  const auto x = torch::randn_like(p.x0).requires_grad_();
  const auto f = attention_map(x, p.w).reshape(-1);
  const auto jac = attention_map_jacobian(x.detach(), p.w);
  ASSERT_EQ(jac.sizes(), (std::vector<int64_t>{25, 15}));
  for (int64_t r = 0; r < 25; ++r) {
    const auto row = torch::autograd::grad({f[r]}, {x}, {}, /*retain_graph=*/true)[0].reshape(-1);
    EXPECT_LE((jac[r] - row).abs().max().item<double>(), 1e-12) << "row " << r;
  }
  // J^T vec(F - B) is the gradient at lambda = 0.
  const auto b = attention_map(torch::randn_like(p.x0), p.w);
  const auto jtg = jac.t().matmul((attention_map(x.detach(), p.w) - b).reshape(-1)).reshape(x.sizes());
  EXPECT_LE((jtg - inversion_gradient(x.detach(), p.w, b)).abs().max().item<double>(), 1e-12);
}

TEST(AttentionInversion, MapIsInvariantUnderWIsometries) {
  const Planted p = planted(4, 6, 3);
  EXPECT_LE((attention_map(-p.x0, p.w) - p.b).abs().max().item<double>(), 1e-15);
  // A symmetric positive definite W: M = W^-1/2 R W^1/2 with R orthogonal satisfies M^T W M = W.
  const auto a = torch::randn({4, 4}, torch::kDouble);
  const auto w = a.matmul(a.t()) + torch::eye(4, torch::kDouble);
  const auto [evals, evecs] = torch::linalg_eigh(w);
  const auto half = evecs.matmul(torch::diag(evals.sqrt())).matmul(evecs.t());
  const auto r = std::get<0>(torch::linalg_qr(torch::randn({4, 4}, torch::kDouble)));
  const auto m = torch::linalg_inv(half).matmul(r).matmul(half);
  EXPECT_LE((attention_map(m.matmul(p.x0), w) - attention_map(p.x0, w)).abs().max().item<double>(), 1e-12);
  const SymmetryFit fit = fit_w_isometry(p.x0, torch::linalg_inv(m).matmul(p.x0), w);
  EXPECT_LE(fit.residual, 1e-10);
  EXPECT_LE(fit.isometry_defect, 1e-10);
}

// Planted d = 4, n = 8: Gauss-Newton from random starts reaches L ~ 0 on at least one of 10 and
// then matches B; gradient descent's loss never rises (line search) and ends far above.
TEST(AttentionInversion, SolversOnAPlantedProblem) {
  const Planted p = planted(4, 8, 11);
  double best = 1e300;
  torch::Tensor best_x;
  for (uint64_t s = 0; s < 10 && best > 1e-20; ++s) {
    torch::manual_seed(100 + s);
    const auto x_init = torch::randn_like(p.x0) / 2;
    const InversionResult r = invert_attention(p.w, p.b, x_init, InversionOptions().max_iterations(300));
    if (r.losses.back() < best) {
      best = r.losses.back();
      best_x = r.x;
    }
    for (size_t i = 1; i < r.losses.size(); ++i) EXPECT_LT(r.losses[i], r.losses[i - 1]);
  }
  EXPECT_LE(best, 1e-20);
  EXPECT_LE(((attention_map(best_x, p.w) - p.b).norm() / p.b.norm()).item<double>(), 1e-9);
  torch::manual_seed(100);
  const InversionResult gd = invert_attention(p.w, p.b, torch::randn_like(p.x0) / 2,
                                              InversionOptions().solver(InversionSolver::GradientDescent).max_iterations(300));
  EXPECT_EQ(gd.iterations, 300);
  for (size_t i = 1; i < gd.losses.size(); ++i) EXPECT_LE(gd.losses[i], gd.losses[i - 1]);
  EXPECT_GT(gd.losses.back(), 1e-20);
}

TEST(AttentionInversion, BadInputIsAUsageError) {
  using test_support::usage_error;
  const Planted p = planted(3, 5, 1);
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b, torch::zeros({4, 5}, torch::kDouble)); }), "d = 3");
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b.slice(0, 0, 4), p.x0); }), "B [n, n] with n = 5");
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b * 2, p.x0); }), "sum to 1");
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b, p.x0 * NAN); }), "finite");
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b, p.x0, InversionOptions().lambda(-1)); }), "lambda = -1");
  EXPECT_MENTIONS(usage_error([&] { invert_attention(p.w, p.b, p.x0, InversionOptions().max_iterations(0)); }),
                  "max_iterations = 0");
  // The maps themselves (found by the pyargs fuzz target: a float X with a double W was a raw
  // LibTorch error).
  EXPECT_MENTIONS(usage_error([&] { attention_map(p.x0.to(torch::kFloat), p.w); }), "one dtype");
  EXPECT_MENTIONS(usage_error([&] { inversion_loss(p.x0, p.w, p.b.slice(0, 0, 4)); }), "B [n, n] with n = 5");
  EXPECT_MENTIONS(usage_error([&] { inversion_gradient(p.x0, p.w.slice(0, 0, 2), p.b); }), "W [d, d]");
  EXPECT_MENTIONS(usage_error([&] { attention_map_jacobian(p.x0.to(torch::kLong), p.w.to(torch::kLong)); }),
                  "floating-point");
}

}  // namespace
}  // namespace lmlab::privacy
