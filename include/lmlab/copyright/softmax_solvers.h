// Solvers for the protected softmax-regression objective F (softmax_regression.h; P10, arXiv
// 2308.12247): Newton's method, which the paper uses (its Hessian is positive definite once the
// regulariser is large enough), and gradient descent as the baseline. Both take the step
// x + t p with t from Armijo backtracking: t = initial_step, halved (factor `backtrack`) until
// F(x + t p) <= F(x) + armijo t grad^T p. They stop when ||grad F|| <= tolerance (converged), after
// max_iterations, or when no step of the line search decreases F (stalled).
//   Newton:           p = -(H + mu I)^-1 grad, mu = max(0, delta - eig_min(H)),
//                     delta = 1e-8 max(1, |eig_max(H)|)   [ours: the shift keeps p a descent
//                     direction where F is not convex; mu = 0 wherever H is positive definite]
//   gradient descent: p = -grad.
// Shapes: x [D] float64.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/copyright/softmax_regression.h"

namespace lmlab::copyright {

struct SolverOptions {
  TORCH_ARG(int64_t, max_iterations) = 100;  // >= 1
  TORCH_ARG(double, tolerance) = 1e-8;       // on ||grad F||_2, > 0
  TORCH_ARG(double, initial_step) = 1.0;     // first t of each line search, > 0
  TORCH_ARG(double, armijo) = 1e-4;          // sufficient-decrease constant, in (0, 1/2)
  TORCH_ARG(double, backtrack) = 0.5;        // step shrink factor, in (0, 1)
  TORCH_ARG(int64_t, max_backtracks) = 60;   // >= 1
};

// UsageError naming the value unless every option is in its range.
void check_solver_options(const SolverOptions& options);

struct SolveResult {
  torch::Tensor x;           // [D], the last iterate
  int64_t iterations = 0;    // steps taken
  int64_t evaluations = 0;   // objective evaluations (line searches included)
  bool converged = false;    // ||grad|| <= tolerance
  bool stalled = false;      // a line search found no decrease
  ObjectiveEvaluation final; // at x, with its gradient
  std::vector<double> values, gradient_norms;  // F and ||grad F|| at x_0, x_1, ..., x_iterations
};

SolveResult newton_solve(const SoftmaxRegression& objective, const torch::Tensor& x0, const SolverOptions& options = {});
SolveResult gradient_descent_solve(const SoftmaxRegression& objective, const torch::Tensor& x0,
                                   const SolverOptions& options = {});

}  // namespace lmlab::copyright
