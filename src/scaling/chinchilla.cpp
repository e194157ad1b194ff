// Chinchilla's parametric loss L(N, D) = E + A/N^alpha + B/D^beta fitted with a Huber loss on
// log L by L-BFGS (include/lmlab/scaling/power_law.h has the equations and the deviation).
#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "lmlab/core/error.h"
#include "lmlab/scaling/power_law.h"

namespace lmlab::scaling {
namespace {

// Huber objective per parameter row: p [S, 5] = (a, b, e, alpha, beta) -> [S].
torch::Tensor objective(const torch::Tensor& p, const torch::Tensor& log_n, const torch::Tensor& log_d,
                        const torch::Tensor& log_l, double delta) {
  const auto col = [&p](int64_t k) { return p.select(1, k).unsqueeze(1); };  // [S, 1]
  const torch::Tensor terms = torch::stack(
      {col(0) - col(3) * log_n, col(1) - col(4) * log_d, col(2).expand({p.size(0), log_n.size(0)})}, -1);
  const torch::Tensor predicted = torch::logsumexp(terms, -1);  // [S, n]
  namespace F = torch::nn::functional;
  return F::huber_loss(predicted, log_l.expand_as(predicted),
                       F::HuberLossFuncOptions().reduction(torch::kNone).delta(delta))
      .sum(1);
}

// Hoffmann et al.'s grid of starts: a, b in {0, 5, .., 25}, e in {-1, -.5, .., 1}, alpha, beta in
// {0, .5, .., 2}. [4500, 5].
torch::Tensor start_grid() {
  std::vector<double> rows;
  for (double a = 0; a <= 25; a += 5)
    for (double b = 0; b <= 25; b += 5)
      for (double e = -1; e <= 1; e += 0.5)
        for (double alpha = 0; alpha <= 2; alpha += 0.5)
          for (double beta = 0; beta <= 2; beta += 0.5) rows.insert(rows.end(), {a, b, e, alpha, beta});
  return torch::tensor(rows, torch::kDouble).view({-1, 5});
}

}  // namespace

double ChinchillaFit::predict(double n, double d) const { return E + A / std::pow(n, alpha) + B / std::pow(d, beta); }

ChinchillaFit fit_chinchilla(const std::vector<double>& n, const std::vector<double>& d,
                             const std::vector<double>& loss, const ChinchillaOptions& options) {
  LMLAB_CHECK(n.size() == d.size() && n.size() == loss.size() && n.size() >= 5, UsageError,
              "a Chinchilla fit needs >= 5 (N, D, loss) points of equal count, got ", n.size(), ", ", d.size(), ", ",
              loss.size());
  LMLAB_CHECK(options.huber_delta > 0 && options.polished >= 1 && options.max_iterations >= 1, UsageError,
              "Chinchilla fit options need huber_delta > 0, polished >= 1, max_iterations >= 1");
  for (size_t i = 0; i < n.size(); ++i)
    LMLAB_CHECK(n[i] > 0 && d[i] > 0 && loss[i] > 0 && std::isfinite(n[i] * d[i] * loss[i]), UsageError,
                "a Chinchilla fit needs positive finite N, D and loss, got ", n[i], ", ", d[i], ", ", loss[i]);
  torch::NoGradGuard no_grad;
  const torch::Tensor log_n = torch::tensor(n, torch::kDouble).log(), log_d = torch::tensor(d, torch::kDouble).log();
  const torch::Tensor log_l = torch::tensor(loss, torch::kDouble).log();

  const torch::Tensor grid = start_grid();
  const torch::Tensor scores = objective(grid, log_n, log_d, log_l, options.huber_delta);
  const torch::Tensor starts = grid.index_select(
      0, std::get<1>(scores.topk(std::min<int64_t>(options.polished, grid.size(0)), 0, /*largest=*/false)));

  torch::Tensor best;
  double best_value = INFINITY;
  for (int64_t s = 0; s < starts.size(0); ++s) {
    torch::Tensor p = starts[s].unsqueeze(0).clone().requires_grad_();
    torch::optim::LBFGS opt({p}, torch::optim::LBFGSOptions(1.0)
                                     .max_iter(options.max_iterations)
                                     .tolerance_grad(1e-12)
                                     .tolerance_change(1e-15)
                                     .line_search_fn("strong_wolfe"));
    auto closure = [&] {
      torch::AutoGradMode enable(true);
      opt.zero_grad();
      torch::Tensor value = objective(p, log_n, log_d, log_l, options.huber_delta).sum();
      value.backward();
      return value;
    };
    opt.step(closure);
    const double value = objective(p, log_n, log_d, log_l, options.huber_delta).item<double>();
    if (std::isfinite(value) && value < best_value) best_value = value, best = p.detach()[0];
  }
  LMLAB_CHECK(best.defined(), UsageError, "the Chinchilla fit diverged from every start; check the losses");

  ChinchillaFit fit;
  fit.A = std::exp(best[0].item<double>());
  fit.B = std::exp(best[1].item<double>());
  fit.E = std::exp(best[2].item<double>());
  fit.alpha = best[3].item<double>();
  fit.beta = best[4].item<double>();
  fit.objective = best_value;
  double mean = 0, total = 0, residual = 0;
  for (double l : loss) mean += std::log(l) / loss.size();
  for (size_t i = 0; i < loss.size(); ++i) {
    total += std::pow(std::log(loss[i]) - mean, 2);
    residual += std::pow(std::log(loss[i]) - std::log(fit.predict(n[i], d[i])), 2);
  }
  fit.r2 = total > 0 ? 1 - residual / total : 1.0;
  return fit;
}

}  // namespace lmlab::scaling
