// Copyright-protected softmax regression (include/lmlab/copyright/softmax_regression.h).
#include "lmlab/copyright/softmax_regression.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::copyright {
namespace {

bool all_finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

}  // namespace

void check_softmax_regression_data(const SoftmaxRegressionData& d) {
  LMLAB_CHECK(d.a.defined() && d.a.dim() == 3 && d.a.scalar_type() == torch::kDouble, UsageError,
              "softmax regression: A must be a float64 tensor [K,N,D]",
              d.a.defined() ? detail::concat("; got ", d.a.sizes(), " ", d.a.scalar_type()) : "; got none");
  const int64_t k = d.a.size(0), n = d.a.size(1);
  LMLAB_CHECK(k >= 2 && n >= 2 && d.a.size(2) >= 1, UsageError,
              "softmax regression: A [K,N,D] needs K >= 2 tasks, N >= 2 rows and D >= 1; got ", d.a.sizes());
  LMLAB_CHECK(d.b.defined() && d.b.scalar_type() == torch::kDouble && d.b.sizes() == torch::IntArrayRef({k, n}),
              UsageError, "softmax regression: b must be float64 [K,N] = [", k, ",", n, "]");
  LMLAB_CHECK(d.copyrighted.defined() && d.copyrighted.scalar_type() == torch::kBool &&
                  d.copyrighted.sizes() == torch::IntArrayRef({k}),
              UsageError, "softmax regression: the copyrighted mask must be bool [K] = [", k, "]");
  LMLAB_CHECK(all_finite(d.a) && all_finite(d.b), UsageError, "softmax regression: A and b must be finite");
  LMLAB_CHECK((d.b >= 0).all().item<bool>() && (d.b.sum(1) - 1).abs().max().item<double>() < 1e-9, UsageError,
              "softmax regression: every row of b must be a probability vector (entries >= 0, sum 1)");
  const int64_t cp = d.copyrighted.sum().item<int64_t>();
  LMLAB_CHECK(cp >= 1, UsageError, "softmax regression: the copyrighted set is empty; mark at least one task "
              "copyrighted (tau and the protection term need L_cp)");
  LMLAB_CHECK(cp < k, UsageError, "softmax regression: all ", k, " tasks are copyrighted; leave at least one "
              "unmarked (L_rest needs it)");
}

torch::Tensor softmax_regression_loss(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& x) {
  const auto s = torch::softmax(torch::matmul(a, x), -1);
  return 0.5 * (s - b).pow(2).sum(-1);
}

SoftmaxRegression::SoftmaxRegression(SoftmaxRegressionData data, SoftmaxRegressionOptions options)
    : data_(std::move(data)), options_(options) {
  check_softmax_regression_data(data_);
  LMLAB_CHECK(std::isfinite(options.gamma()) && options.gamma() >= 0, UsageError,
              "softmax regression: gamma must be finite and >= 0; got ", options.gamma());
  LMLAB_CHECK(std::isfinite(options.lambda()) && options.lambda() >= 0, UsageError,
              "softmax regression: lambda (ridge) must be finite and >= 0; got ", options.lambda());
  LMLAB_CHECK(std::isfinite(options.loss_floor()) && options.loss_floor() > 0, UsageError,
              "softmax regression: loss_floor must be finite and > 0 (it keeps gamma / L_cp finite); got ",
              options.loss_floor());
  const auto cp = data_.copyrighted.to(torch::kDouble);
  cp_weights_ = cp / cp.sum();
  rest_weights_ = (1 - cp) / (1 - cp).sum();
  fit_weights_ = options.fit_all() ? torch::full_like(cp, 1.0 / static_cast<double>(cp.size(0))) : rest_weights_;
}

ObjectiveEvaluation SoftmaxRegression::evaluate(const torch::Tensor& x, int order) const {
  LMLAB_CHECK(x.defined() && x.dim() == 1 && x.size(0) == dim() && x.scalar_type() == torch::kDouble, UsageError,
              "softmax regression: x must be float64 [D] = [", dim(), "]");
  LMLAB_CHECK(order >= 0 && order <= 2, UsageError, "softmax regression: derivative order must be 0, 1 or 2");
  torch::NoGradGuard no_grad;
  const auto& a = data_.a;                                 // [K,N,D]
  const auto s = torch::softmax(torch::matmul(a, x), -1);  // [K,N]
  const auto r = s - data_.b;
  const auto losses = 0.5 * r.pow(2).sum(-1);              // [K]
  ObjectiveEvaluation e;
  e.l_cp = losses.dot(cp_weights_).item<double>();
  e.l_rest = losses.dot(rest_weights_).item<double>();
  e.floored = e.l_cp < options_.loss_floor();
  const double lcp = e.floored ? options_.loss_floor() : e.l_cp;
  const double gamma = options_.gamma(), lambda = options_.lambda();
  e.value = losses.dot(fit_weights_).item<double>() + gamma / lcp + 0.5 * lambda * x.dot(x).item<double>();
  if (order == 0) return e;

  // Per-task gradients in u and x.
  const auto q = s * r;                                             // [K,N]
  const auto c = q.sum(-1, true);                                   // [K,1]
  const auto du = q - c * s;                                        // [K,N]
  const auto gx = torch::einsum("knd,kn->kd", {a, du});             // [K,D]
  const auto g_fit = torch::matmul(fit_weights_, gx);               // [D]
  const auto g_cp = torch::matmul(cp_weights_, gx);                 // [D]
  const double h1 = e.floored ? 0.0 : gamma / (lcp * lcp);          // -d(gamma/L)/dL
  e.grad = g_fit - h1 * g_cp + lambda * x;
  if (order == 1) return e;

  // Per-task Hessians in u, then A^T H_u A.
  const auto ss = s.unsqueeze(2) * s.unsqueeze(1);                  // s s^T [K,N,N]
  const auto jac = torch::diag_embed(s) - ss;                       // J
  const auto qs = q.unsqueeze(2) * s.unsqueeze(1);                  // q s^T
  const auto hu = torch::matmul(jac, jac) + torch::diag_embed(q - c * s) - qs - qs.transpose(1, 2) +
                  2 * c.unsqueeze(2) * ss;
  const auto hx = torch::matmul(torch::matmul(a.transpose(1, 2), hu), a);  // [K,D,D]
  const auto h_fit = torch::einsum("k,kij->ij", {fit_weights_, hx});
  const auto h_cp = torch::einsum("k,kij->ij", {cp_weights_, hx});
  const double h2 = e.floored ? 0.0 : 2 * gamma / (lcp * lcp * lcp);
  e.hessian = h_fit - h1 * h_cp + h2 * torch::outer(g_cp, g_cp) +
              lambda * torch::eye(dim(), torch::kDouble);
  return e;
}

}  // namespace lmlab::copyright
