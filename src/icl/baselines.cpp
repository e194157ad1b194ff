// Reference estimators of in-context regression (include/lmlab/icl/baselines.h).
#include "lmlab/icl/baselines.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"

namespace lmlab::icl {

namespace {
// Runs `predict(X [B,i,d], y [B,i], x [B,d]) -> [B]` (float64) for every position i >= 1 and
// stacks the answers after a 0 for position 0.
torch::Tensor per_position(const torch::Tensor& xs, const torch::Tensor& ys, const std::string& what,
                           const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                                             const torch::Tensor&)>& predict) {
  check_prompts(xs, ys, what);
  torch::NoGradGuard no_grad;
  const auto x = xs.to(torch::kDouble), y = ys.to(torch::kDouble);
  auto out = torch::zeros(y.sizes(), y.options());
  for (int64_t i = 1; i < x.size(1); ++i)
    out.select(1, i).copy_(predict(x.narrow(1, 0, i), y.narrow(1, 0, i), x.select(1, i)));
  return out.to(ys.scalar_type());
}

torch::Tensor apply(const torch::Tensor& w, const torch::Tensor& x) { return (w * x).sum(-1); }
}  // namespace

torch::Tensor least_squares_predictions(const torch::Tensor& xs, const torch::Tensor& ys) {
  return per_position(xs, ys, "least_squares_predictions", [](const auto& X, const auto& y, const auto& x) {
    return apply(torch::matmul(torch::linalg::pinv(X), y.unsqueeze(-1)).squeeze(-1), x);
  });
}

torch::Tensor ridge_predictions(const torch::Tensor& xs, const torch::Tensor& ys, double lambda) {
  LMLAB_CHECK(std::isfinite(lambda) && lambda > 0, UsageError, "ridge lambda must be finite and > 0; got ", lambda);
  return per_position(xs, ys, "ridge_predictions", [lambda](const auto& X, const auto& y, const auto& x) {
    const auto Xt = X.transpose(1, 2);
    const auto gram = torch::matmul(Xt, X) + lambda * torch::eye(X.size(2), X.options());
    return apply(torch::linalg::solve(gram, torch::matmul(Xt, y.unsqueeze(-1)), true).squeeze(-1), x);
  });
}

torch::Tensor nearest_neighbour_predictions(const torch::Tensor& xs, const torch::Tensor& ys, int64_t neighbours) {
  LMLAB_CHECK(neighbours >= 1, UsageError, "nearest neighbours: the count must be >= 1; got ", neighbours);
  return per_position(xs, ys, "nearest_neighbour_predictions", [neighbours](const auto& X, const auto& y, const auto& x) {
    const auto dist = (X - x.unsqueeze(1)).pow(2).sum(-1);  // [B,i]
    const int64_t n = std::min<int64_t>(neighbours, X.size(1));
    const auto idx = std::get<1>(dist.topk(n, 1, /*largest=*/false));
    return y.gather(1, idx).mean(1);
  });
}

torch::Tensor averaging_predictions(const torch::Tensor& xs, const torch::Tensor& ys) {
  return per_position(xs, ys, "averaging_predictions", [](const auto& X, const auto& y, const auto& x) {
    return apply((y.unsqueeze(-1) * X).mean(1), x);
  });
}

torch::Tensor normalised_squared_error(const torch::Tensor& predictions, const torch::Tensor& targets, int64_t dim) {
  LMLAB_CHECK(dim >= 1, UsageError, "normalised_squared_error: d must be >= 1; got ", dim);
  LMLAB_CHECK(predictions.sizes() == targets.sizes(), UsageError, "normalised_squared_error: predictions ",
              predictions.sizes(), " and targets ", targets.sizes(), " differ in shape");
  return (predictions - targets).pow(2) / static_cast<double>(dim);
}

}  // namespace lmlab::icl
