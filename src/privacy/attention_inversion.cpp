// Attention inversion (include/lmlab/privacy/attention_inversion.h).
#include "lmlab/privacy/attention_inversion.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::privacy {
namespace {

using torch::Tensor;

// W [d, d], X [d, n] and, where defined, B [n, n], all floating point.
void check_shapes(const Tensor& w, const Tensor& b, const Tensor& x) {
  LMLAB_CHECK(w.defined() && w.dim() == 2 && w.size(0) == w.size(1) && w.size(0) >= 1, UsageError,
              "attention inversion needs W [d, d]; got ", w.defined() ? w.sizes() : torch::IntArrayRef{});
  const int64_t d = w.size(0);
  LMLAB_CHECK(x.defined() && x.dim() == 2 && x.size(0) == d && x.size(1) >= 1, UsageError,
              "attention inversion needs X [d, n] with d = ", d, " (W's size); got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  const int64_t n = x.size(1);
  LMLAB_CHECK(!b.defined() || (b.dim() == 2 && b.size(0) == n && b.size(1) == n), UsageError,
              "attention inversion needs B [n, n] with n = ", n, " (X's columns); got ", b.sizes());
  for (const Tensor* t : {&w, &b, &x})
    LMLAB_CHECK(!t->defined() || t->is_floating_point(), UsageError,
                "attention inversion inputs must be floating-point tensors; got ", t->scalar_type());
}

// The same, and of one dtype: the maps below compute in the inputs' dtype.
void check_operands(const Tensor& w, const Tensor& b, const Tensor& x) {
  check_shapes(w, b, x);
  LMLAB_CHECK(w.scalar_type() == x.scalar_type() && (!b.defined() || b.scalar_type() == x.scalar_type()), UsageError,
              "attention inversion inputs must share one dtype; got X ", x.scalar_type(), ", W ", w.scalar_type(),
              b.defined() ? detail::concat(", B ", b.scalar_type()) : std::string(), " (convert them, e.g. to float64)");
}

// The solvers' inputs: as check_shapes with B given, and finite.
void check_problem(const Tensor& w, const Tensor& b, const Tensor& x) {
  LMLAB_CHECK(b.defined(), UsageError, "attention inversion needs B [n, n]; got none");
  check_shapes(w, b, x);
  for (const Tensor* t : {&w, &b, &x})
    LMLAB_CHECK(torch::isfinite(*t).all().item<bool>(), UsageError, "attention inversion inputs must be finite");
}

Tensor map_of(const Tensor& x, const Tensor& w) { return torch::softmax(x.t().matmul(w).matmul(x), 1); }

Tensor loss_of(const Tensor& x, const Tensor& w, const Tensor& b, double lambda) {
  return 0.5 * (map_of(x, w) - b).pow(2).sum() + 0.5 * lambda * x.pow(2).sum();
}

Tensor gradient_of(const Tensor& x, const Tensor& w, const Tensor& b, double lambda) {
  const Tensor f = map_of(x, w), g = f - b;
  const Tensor gs = f * (g - (g * f).sum(1, /*keepdim=*/true));
  return w.matmul(x).matmul(gs.t()) + w.t().matmul(x).matmul(gs) + lambda * x;
}

Tensor jacobian_of(const Tensor& x, const Tensor& w) {
  const int64_t d = x.size(0), n = x.size(1);
  const Tensor f = map_of(x, w);
  // P[i] = diag(F_i) - F_i F_i^T: the softmax Jacobian of row i, [n, n, n].
  const Tensor p = torch::diag_embed(f) - f.unsqueeze(2) * f.unsqueeze(1);
  // dF_ij/dX_am = P[i,j,m] (W^T X)[a,i] + delta_im sum_k P[i,j,k] (W X)[a,k].
  Tensor jac = torch::einsum("ijm,ai->ijam", {p, w.t().matmul(x)});
  const Tensor t1 = torch::einsum("ijk,ak->ija", {p, w.matmul(x)});
  jac.diagonal(0, 0, 3).add_(t1.permute({1, 2, 0}));  // the i = m entries, [j, a, i]
  return jac.reshape({n * n, d * n});
}

double loss_value(const Tensor& x, const Tensor& w, const Tensor& b, double lambda) {
  return loss_of(x, w, b, lambda).item<double>();
}

}  // namespace

Tensor attention_map(const Tensor& x, const Tensor& w) {
  check_operands(w, Tensor(), x);
  return map_of(x, w);
}

Tensor inversion_loss(const Tensor& x, const Tensor& w, const Tensor& b, double lambda) {
  LMLAB_CHECK(b.defined(), UsageError, "inversion_loss needs B [n, n]; got none");
  check_operands(w, b, x);
  return loss_of(x, w, b, lambda);
}

Tensor inversion_gradient(const Tensor& x, const Tensor& w, const Tensor& b, double lambda) {
  LMLAB_CHECK(b.defined(), UsageError, "inversion_gradient needs B [n, n]; got none");
  check_operands(w, b, x);
  return gradient_of(x, w, b, lambda);
}

Tensor attention_map_jacobian(const Tensor& x, const Tensor& w) {
  check_operands(w, Tensor(), x);
  return jacobian_of(x, w);
}

void InversionOptions::validate() const {
  LMLAB_CHECK(std::isfinite(lambda_) && lambda_ >= 0, UsageError, "inversion lambda = ", lambda_, " must be >= 0");
  LMLAB_CHECK(max_iterations_ >= 1, UsageError, "inversion max_iterations = ", max_iterations_, " must be >= 1");
  LMLAB_CHECK(std::isfinite(tolerance_) && tolerance_ >= 0, UsageError, "inversion tolerance = ", tolerance_,
              " must be >= 0");
  LMLAB_CHECK(std::isfinite(damping_) && damping_ > 0, UsageError, "Gauss-Newton damping = ", damping_, " must be > 0");
}

InversionResult invert_attention(const Tensor& w_in, const Tensor& b_in, const Tensor& x0, const InversionOptions& o) {
  o.validate();
  check_problem(w_in, b_in, x0);
  LMLAB_CHECK((b_in >= 0).all().item<bool>() &&
                  (b_in.sum(1) - 1).abs().max().item<double>() < 1e-6,
              UsageError, "B must be an attention map: non-negative rows that sum to 1");
  torch::NoGradGuard no_grad;
  const Tensor w = w_in.to(torch::kDouble), b = b_in.to(torch::kDouble);
  Tensor x = x0.to(torch::kDouble).clone();
  const int64_t dn = x.numel();
  InversionResult r;
  double loss = loss_value(x, w, b, o.lambda()), step = 1.0, mu = -1;
  r.losses.push_back(loss);
  constexpr double kArmijo = 1e-4;
  constexpr int kHalvings = 60;
  for (int64_t it = 0; it < o.max_iterations() && loss > o.tolerance(); ++it) {
    const Tensor grad = gradient_of(x, w, b, o.lambda());
    Tensor dir;
    if (o.solver() == InversionSolver::GradientDescent) {
      dir = -grad;
    } else {
      const Tensor j = jacobian_of(x, w);
      const Tensor jtj = j.t().matmul(j);
      if (mu < 0) mu = o.damping() * jtj.diagonal().mean().item<double>();
      const Tensor a = jtj + (o.lambda() + mu) * torch::eye(dn, jtj.options());
      dir = -torch::linalg_solve(a, grad.reshape({dn, 1})).reshape(x.sizes());
      step = 1.0;
    }
    const double slope = (grad * dir).sum().item<double>();  // < 0: a descent direction
    double t = step, trial = NAN;
    int halvings = 0;
    for (; halvings < kHalvings; ++halvings, t *= 0.5) {
      trial = loss_value(x + t * dir, w, b, o.lambda());
      if (trial <= loss + kArmijo * t * slope) break;
    }
    if (halvings == kHalvings || !(trial < loss)) {
      r.stalled = true;
      break;
    }
    x = x + t * dir;
    loss = trial;
    r.losses.push_back(loss);
    ++r.iterations;
    if (o.solver() == InversionSolver::GradientDescent) step = 2 * t;
    else mu = halvings == 0 ? std::max(mu / 3, 1e-300) : mu * 4;
  }
  r.x = x;
  return r;
}

SymmetryFit fit_w_isometry(const Tensor& x_true, const Tensor& x_hat, const Tensor& w) {
  check_problem(w, torch::eye(x_true.size(1), w.options()), x_true);
  LMLAB_CHECK(x_hat.sizes() == x_true.sizes(), UsageError, "fit_w_isometry needs X_true and X_hat of one shape; got ",
              x_true.sizes(), " and ", x_hat.sizes());
  const Tensor xt = x_true.to(torch::kDouble), xh = x_hat.to(torch::kDouble), wd = w.to(torch::kDouble);
  // X_true ~ M X_hat  <=>  X_hat^T M^T ~ X_true^T: least squares for M^T.
  const Tensor m = std::get<0>(torch::linalg_lstsq(xh.t(), xt.t())).t();
  SymmetryFit fit;
  fit.m = m;
  fit.residual = ((xt - m.matmul(xh)).norm() / xt.norm()).item<double>();
  fit.isometry_defect = ((m.t().matmul(wd).matmul(m) - wd).norm() / wd.norm()).item<double>();
  return fit;
}

}  // namespace lmlab::privacy
