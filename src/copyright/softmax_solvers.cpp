// Newton and gradient descent with Armijo line search (include/lmlab/copyright/softmax_solvers.h).
#include "lmlab/copyright/softmax_solvers.h"

#include <cmath>
#include <functional>

#include "lmlab/core/error.h"

namespace lmlab::copyright {
namespace {

using Direction = std::function<torch::Tensor(const ObjectiveEvaluation&)>;

// The loop both solvers share; `direction` gives p from the evaluation at x (with its Hessian when
// `order` is 2).
SolveResult descend(const SoftmaxRegression& f, const torch::Tensor& x0, const SolverOptions& o, int order,
                    const Direction& direction) {
  check_solver_options(o);
  LMLAB_CHECK(x0.defined() && x0.dim() == 1 && x0.size(0) == f.dim() && x0.scalar_type() == torch::kDouble &&
                  torch::isfinite(x0).all().item<bool>(),
              UsageError, "solver: the start x0 must be a finite float64 vector [D] = [", f.dim(), "]");
  SolveResult r;
  r.x = x0.detach().clone();
  ObjectiveEvaluation e = f.evaluate(r.x, order);
  r.evaluations = 1;
  for (;;) {
    const double gnorm = e.grad.norm().item<double>();
    r.values.push_back(e.value);
    r.gradient_norms.push_back(gnorm);
    if (gnorm <= o.tolerance()) { r.converged = true; break; }
    if (r.iterations >= o.max_iterations()) break;
    const torch::Tensor p = direction(e);
    const double slope = e.grad.dot(p).item<double>();
    double t = o.initial_step();
    bool accepted = false;
    for (int64_t k = 0; k < o.max_backtracks() && slope < 0; ++k, t *= o.backtrack()) {
      const double trial = f.evaluate(r.x + t * p, 0).value;
      ++r.evaluations;
      if (std::isfinite(trial) && trial <= e.value + o.armijo() * t * slope) { accepted = true; break; }
    }
    if (!accepted) { r.stalled = true; break; }
    r.x = r.x + t * p;
    e = f.evaluate(r.x, order);
    ++r.evaluations;
    ++r.iterations;
  }
  r.final = std::move(e);
  return r;
}

}  // namespace

void check_solver_options(const SolverOptions& o) {
  LMLAB_CHECK(o.max_iterations() >= 1, UsageError, "solver: max_iterations must be >= 1; got ", o.max_iterations());
  LMLAB_CHECK(std::isfinite(o.tolerance()) && o.tolerance() > 0, UsageError,
              "solver: tolerance must be finite and > 0; got ", o.tolerance());
  LMLAB_CHECK(std::isfinite(o.initial_step()) && o.initial_step() > 0, UsageError,
              "solver: initial_step must be finite and > 0; got ", o.initial_step());
  LMLAB_CHECK(o.armijo() > 0 && o.armijo() < 0.5, UsageError, "solver: armijo must be in (0, 0.5); got ", o.armijo());
  LMLAB_CHECK(o.backtrack() > 0 && o.backtrack() < 1, UsageError, "solver: backtrack must be in (0, 1); got ",
              o.backtrack());
  LMLAB_CHECK(o.max_backtracks() >= 1, UsageError, "solver: max_backtracks must be >= 1; got ", o.max_backtracks());
}

SolveResult newton_solve(const SoftmaxRegression& f, const torch::Tensor& x0, const SolverOptions& options) {
  return descend(f, x0, options, 2, [](const ObjectiveEvaluation& e) {
    const auto eig = torch::linalg_eigvalsh(e.hessian, "L");
    const double lo = eig.min().item<double>(), hi = eig.abs().max().item<double>();
    const double delta = 1e-8 * std::max(1.0, hi);
    const double mu = std::max(0.0, delta - lo);
    const auto h = e.hessian + mu * torch::eye(e.hessian.size(0), torch::kDouble);
    return -torch::linalg_solve(h, e.grad.unsqueeze(1)).squeeze(1);
  });
}

SolveResult gradient_descent_solve(const SoftmaxRegression& f, const torch::Tensor& x0, const SolverOptions& options) {
  return descend(f, x0, options, 1, [](const ObjectiveEvaluation& e) { return -e.grad; });
}

}  // namespace lmlab::copyright
