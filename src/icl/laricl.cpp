// LARICL: example weights from a ridge solve on the linearised predictor (include/lmlab/icl/laricl.h).
#include "lmlab/icl/laricl.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"

namespace lmlab::icl {

void LARICLOptions::validate() const {
  LMLAB_CHECK(std::isfinite(ridge_) && ridge_ >= 0, UsageError, "LARICL ridge must be finite and >= 0; got ", ridge_);
}

ReweightingResult fit_laricl(const WeightedPredictor& f, const torch::Tensor& xs, const torch::Tensor& ys,
                             const LARICLOptions& options) {
  options.validate();
  check_prompts(xs, ys, "LARICL");
  const int64_t b = xs.size(0), n = xs.size(1), k = n - 1;
  LMLAB_CHECK(k >= 1, UsageError, "LARICL needs prompts with >= 1 example before the query; got N = ", n);
  // Per-prompt weights [B,K]: prediction b depends on row b only, so one backward of sum_b f_b
  // gives every J_b.
  auto w = torch::ones({b, k}, xs.options()).requires_grad_();
  const auto pred = f(xs, ys, w);
  const auto jac = torch::autograd::grad({pred.sum()}, {w})[0].detach().to(torch::kDouble);  // [B,K]
  const auto residual = ys.select(1, k).to(torch::kDouble) - pred.detach().to(torch::kDouble);  // [B]
  const double inv_b = 1.0 / static_cast<double>(b);
  const auto gram = torch::matmul(jac.t(), jac) * inv_b + options.ridge() * torch::eye(k, jac.options());
  const auto rhs = torch::matmul(jac.t(), residual) * inv_b;
  const auto delta = options.ridge() > 0 ? torch::linalg::solve(gram, rhs.unsqueeze(1), true).squeeze(1)
                                         : torch::matmul(torch::linalg::pinv(gram), rhs);
  LMLAB_CHECK(torch::isfinite(delta).all().item<bool>(), UsageError,
              "LARICL's solve gave non-finite weights; raise the LARICL ridge (got ", options.ridge(), ")");
  ReweightingResult out;
  out.weights = 1.0 + delta;
  out.losses.push_back((residual - torch::matmul(jac, delta)).pow(2).mean().item<double>() / static_cast<double>(xs.size(2)));
  out.prompt_passes = b;
  return out;
}

}  // namespace lmlab::icl
