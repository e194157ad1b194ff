// Kaplan power laws, the compute frontier and the percentile bootstrap
// (include/lmlab/scaling/power_law.h).
#include "lmlab/scaling/power_law.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "lmlab/core/error.h"

namespace lmlab::scaling {

double PowerLawFit::predict(double x) const { return std::pow(scale / x, alpha); }

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  LMLAB_CHECK(x.size() == y.size() && x.size() >= 2, UsageError, "a line fit needs >= 2 (x, y) pairs of equal count, got ",
              x.size(), " and ", y.size());
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  LMLAB_CHECK(sxx > 0, UsageError, "a line fit needs at least two distinct x values");
  LineFit fit;
  fit.slope = sxy / sxx;
  fit.intercept = my - fit.slope * mx;
  fit.r2 = syy > 0 ? 1 - (syy - fit.slope * sxy) / syy : 1.0;  // residual sum of squares = syy - slope sxy
  return fit;
}

PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& loss) {
  LMLAB_CHECK(x.size() == loss.size(), UsageError, "a power-law fit needs as many x as losses, got ", x.size(), " and ",
              loss.size());
  std::vector<double> lx, ly;
  for (size_t i = 0; i < x.size(); ++i) {
    LMLAB_CHECK(x[i] > 0 && loss[i] > 0 && std::isfinite(x[i]) && std::isfinite(loss[i]), UsageError,
                "a power-law fit needs positive finite x and loss, got x = ", x[i], ", loss = ", loss[i]);
    lx.push_back(std::log(x[i]));
    ly.push_back(std::log(loss[i]));
  }
  const LineFit line = fit_line(lx, ly);  // log L = alpha log X_c - alpha log X
  PowerLawFit fit;
  fit.alpha = -line.slope;
  fit.scale = fit.alpha != 0 ? std::exp(line.intercept / fit.alpha) : std::numeric_limits<double>::infinity();
  fit.r2 = line.r2;
  return fit;
}

std::vector<size_t> compute_frontier(const std::vector<double>& compute, const std::vector<double>& loss) {
  LMLAB_CHECK(compute.size() == loss.size(), UsageError, "compute_frontier: ", compute.size(), " compute values for ",
              loss.size(), " losses");
  std::vector<size_t> order(compute.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return compute[i] < compute[j] || (compute[i] == compute[j] && loss[i] < loss[j]);
  });
  std::vector<size_t> frontier;
  double best = std::numeric_limits<double>::infinity();
  for (size_t i : order)
    if (loss[i] < best) {
      frontier.push_back(i);
      best = loss[i];
    }
  return frontier;
}

std::vector<Interval> bootstrap_intervals(
    size_t n, int resamples, uint64_t seed, double level,
    const std::function<std::vector<double>(const std::vector<size_t>&)>& statistics) {
  LMLAB_CHECK(n >= 1 && resamples >= 2 && level > 0 && level < 1, UsageError,
              "bootstrap needs n >= 1, resamples >= 2 and 0 < level < 1, got ", n, ", ", resamples, ", ", level);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<std::vector<double>> values;
  int succeeded = 0;
  for (int r = 0; r < resamples; ++r) {
    std::vector<size_t> idx(n);
    for (size_t& i : idx) i = pick(rng);
    std::vector<double> stats;
    try {
      stats = statistics(idx);
    } catch (const UsageError&) {
      continue;
    }
    ++succeeded;
    values.resize(std::max(values.size(), stats.size()));
    for (size_t k = 0; k < stats.size(); ++k)
      if (std::isfinite(stats[k])) values[k].push_back(stats[k]);
  }
  LMLAB_CHECK(2 * succeeded >= resamples, UsageError, "only ", succeeded, " of ", resamples,
              " bootstrap resamples could be fitted; use more distinct points");
  std::vector<Interval> intervals;
  for (auto& v : values) {
    std::sort(v.begin(), v.end());
    auto quantile = [&v](double q) {  // linear interpolation between order statistics
      const double pos = q * (v.size() - 1);
      const size_t lo = static_cast<size_t>(std::floor(pos));
      return v[lo] + (pos - lo) * (v[std::min(lo + 1, v.size() - 1)] - v[lo]);
    };
    intervals.push_back(v.empty() ? Interval{NAN, NAN} : Interval{quantile((1 - level) / 2), quantile((1 + level) / 2)});
  }
  return intervals;
}

}  // namespace lmlab::scaling
