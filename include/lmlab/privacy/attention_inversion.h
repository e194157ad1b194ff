// Recovering inputs from attention weights and outputs (P7, arXiv 2310.12462, Deng, Song, Xie,
// Yang; the loss, gradient and solvers are our reading, NOTES.md P7 [ours]).
//
// Shapes: X [d, n] (n tokens of dimension d, one per column), W = Q K^T [d, d], B [n, n].
//   S = X^T W X [n, n],  F = rowsoftmax(S),  L(X) = 1/2 ||F - B||_F^2 + lambda/2 ||X||_F^2
//   G = F - B,  G_S = F * (G - rowsum(G * F) 1^T),  grad_X L = W X G_S^T + W^T X G_S + lambda X
// Solvers, both with backtracking (Armijo) line search, in float64:
//   gradient descent:  X <- X - t grad, the trial step doubling after each accepted one;
//   Gauss-Newton:      residual r = vec(F - B), Jacobian J = d vec(F) / d vec(X) [n^2, d n],
//                      (J^T J + (lambda + mu) I) dx = -grad, Levenberg-Marquardt damping mu
//                      (x1/3 after a full step, x4 after a shortened one) [ours].
// F is unchanged by X -> M X for every W-isometry M (M^T W M = W, e.g. M = -I), so recovery is
// measured on B, and on X only up to such an M (fit_w_isometry).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace lmlab::privacy {

// The four maps below take W [d, d], X [d, n] and B [n, n], floating point of one dtype, and
// compute in it; other shapes or dtypes are a UsageError naming them.

// F = rowsoftmax(X^T W X) [n, n].
torch::Tensor attention_map(const torch::Tensor& x, const torch::Tensor& w);

// L(X) as a scalar tensor (differentiable, for checks against autograd).
torch::Tensor inversion_loss(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, double lambda = 0);

// The analytic grad_X L [d, n].
torch::Tensor inversion_gradient(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                                 double lambda = 0);

// d vec(F) / d vec(X) [n^2, d n] (row-major vec: F[i, j] -> i n + j, X[a, m] -> a n + m).
torch::Tensor attention_map_jacobian(const torch::Tensor& x, const torch::Tensor& w);

enum class InversionSolver { GradientDescent, GaussNewton };

struct InversionOptions {
  // UsageError naming the offending value.
  void validate() const;
  TORCH_ARG(InversionSolver, solver) = InversionSolver::GaussNewton;
  TORCH_ARG(double, lambda) = 0.0;         // >= 0
  TORCH_ARG(int64_t, max_iterations) = 200; // >= 1
  TORCH_ARG(double, tolerance) = 1e-28;    // stop once L <= tolerance (>= 0)
  TORCH_ARG(double, damping) = 1e-3;       // Gauss-Newton's first mu, relative to mean diag(J^T J)
};

struct InversionResult {
  torch::Tensor x;                 // the final X [d, n], float64
  std::vector<double> losses;      // L before each iteration and after the last
  int64_t iterations = 0;
  bool stalled = false;            // the line search found no decrease
};

// Minimises L from x0. UsageError on shapes that do not fit (x0 [d, n], w [d, d], b [n, n]), a
// B whose rows are not probability vectors, or non-finite inputs.
InversionResult invert_attention(const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& x0,
                                 const InversionOptions& options = {});

// The least-squares M [d, d] with X_true ~ M X_hat, the relative residual
// ||X_true - M X_hat||_F / ||X_true||_F, and how far M is from a W-isometry,
// ||M^T W M - W||_F / ||W||_F.
struct SymmetryFit {
  torch::Tensor m;
  double residual = 0;
  double isometry_defect = 0;
};
SymmetryFit fit_w_isometry(const torch::Tensor& x_true, const torch::Tensor& x_hat, const torch::Tensor& w);

}  // namespace lmlab::privacy
