// Copyright-protected softmax regression (P10, arXiv 2308.12247, Chu, Song, Yang), the theory
// object: K tasks (A_k, b_k) share one parameter x; some tasks are marked copyrighted.
//   s_k = <exp(A_k x), 1_N>^-1 exp(A_k x)                 [N]  (softmax of u_k = A_k x)
//   L_k(x) = 1/2 ||s_k - b_k||^2                                (the paper's L_exp)
//   L_cp = mean of L_k over copyrighted tasks,  L_rest = mean over the others
//   F(x) = L_fit(x) + gamma / max(L_cp(x), floor) + lambda/2 ||x||^2,
//   L_fit = L_rest (the paper's L_rest + gamma / L_cp), or with fit_all the mean of L_k over all K
//   tasks (the language-model level's CE(all) + gamma / CE(cp): copyrighted data is trained on)
//   tau(x) = L_cp(x) - L_rest(x)   (x is tau-copyright-protected when L_cp >= L_rest + tau)
// Shapes: A [K,N,D] float64, b [K,N] float64 (each row a probability vector), copyrighted [K]
// bool, x [D] float64.
// Analytic derivatives, per task, with J = diag(s) - s s^T, r = s - b, q = s o r, c = s^T r:
//   dL/du = J r = q - c s;   d2L/du2 = J J + diag(q) - c diag(s) - q s^T - s q^T + 2 c s s^T;
//   grad_x = A^T dL/du,  hess_x = A^T d2L/du2 A;  for the gamma term, with h = gamma / L_cp:
//   grad(gamma/L_cp) = -(gamma/L_cp^2) grad L_cp,
//   hess(gamma/L_cp) = -(gamma/L_cp^2) hess L_cp + (2 gamma/L_cp^3) grad L_cp grad L_cp^T.
// Deviations [ours]: the paper splits the rows of one A into a copyrighted block and the rest;
// here the blocks are whole tasks, so each keeps its own normalisation. The paper's regulariser is
// 1/2 ||diag(w) A x||^2; we use ridge lambda/2 ||x||^2, which makes the regulariser's Hessian
// lambda I whatever A is. Guard [ours]: gamma / L_cp is taken at max(L_cp, floor); below the floor
// the term is the constant gamma / floor (no gradient), so F stays finite when L_cp reaches 0.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lmlab::copyright {

struct SoftmaxRegressionData {
  torch::Tensor a;            // [K,N,D] float64
  torch::Tensor b;            // [K,N] float64, rows are probability vectors
  torch::Tensor copyrighted;  // [K] bool, at least one true and one false
};

// UsageError unless the shapes, dtypes and masks are as above and every entry is finite.
void check_softmax_regression_data(const SoftmaxRegressionData& data);

struct SoftmaxRegressionOptions {
  TORCH_ARG(double, gamma) = 0.0;       // weight of the protection term, >= 0
  TORCH_ARG(double, lambda) = 1e-3;     // ridge, >= 0
  TORCH_ARG(double, loss_floor) = 1e-8; // L_cp is floored here inside gamma / L_cp, > 0
  TORCH_ARG(bool, fit_all) = false;     // data term over all tasks instead of L_rest
};

// Value and derivatives at one x; grad [D] and hessian [D,D] are undefined unless asked for.
struct ObjectiveEvaluation {
  double value = 0;   // F(x)
  double l_cp = 0;    // L_cp(x), unfloored
  double l_rest = 0;  // L_rest(x)
  bool floored = false;  // L_cp < floor: the gamma term is constant here
  torch::Tensor grad, hessian;
  double tau() const { return l_cp - l_rest; }
};

// One task's loss L = 1/2 ||softmax(a x) - b||^2 for a [N,D], b [N], x [D] (or batched a [K,N,D],
// b [K,N] -> [K]); differentiable through autograd, the reference the analytic forms are tested
// against.
torch::Tensor softmax_regression_loss(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& x);

class SoftmaxRegression {
 public:
  // Checks the data and options (UsageError naming the value).
  SoftmaxRegression(SoftmaxRegressionData data, SoftmaxRegressionOptions options);

  // F, L_cp, L_rest at x [D]; with order >= 1 the analytic gradient, with order 2 the Hessian.
  ObjectiveEvaluation evaluate(const torch::Tensor& x, int order = 2) const;
  int64_t dim() const { return data_.a.size(2); }
  const SoftmaxRegressionData& data() const { return data_; }
  const SoftmaxRegressionOptions& options() const { return options_; }

 private:
  SoftmaxRegressionData data_;
  SoftmaxRegressionOptions options_;
  torch::Tensor cp_weights_, rest_weights_, fit_weights_;  // [K]: means over cp, rest, the data term
};

}  // namespace lmlab::copyright
