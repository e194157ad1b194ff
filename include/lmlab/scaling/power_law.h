// Scaling-law fits (P1, arXiv 2411.01663, which builds on Kaplan et al. 2020, arXiv 2001.08361,
// and uses Chinchilla's form, Hoffmann et al. 2022, arXiv 2203.15556).
//
//   Kaplan:     L(X) = (X_c / X)^alpha            for X = N (parameters), D (tokens) or C (compute),
//               fitted by least squares on log L = alpha log X_c - alpha log X.
//   Chinchilla: L(N, D) = E + A / N^alpha + B / D^beta, fitted as Hoffmann et al. do: minimise
//               sum_i Huber_delta(LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i) over
//               (a, b, e, alpha, beta) with A = e^a, B = e^b, E = e^e, by L-BFGS. Deviation: they
//               start L-BFGS from every point of a grid; we evaluate the objective on the grid and
//               start L-BFGS from the `polished` best grid points (the objective is cheap to
//               evaluate, L-BFGS runs are not).
//   R^2 is always on log L: 1 - sum (log L_i - log Lhat_i)^2 / sum (log L_i - mean log L)^2.
// Confidence intervals: percentile bootstrap over points (resampled with replacement).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace lmlab::scaling {

// Least squares y = intercept + slope x with its R^2 (>= 2 points with distinct x; UsageError
// otherwise). fit_power_law is this on (log x, log L).
struct LineFit {
  double slope = 0, intercept = 0, r2 = 0;
};
LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

struct PowerLawFit {
  double alpha = 0;  // exponent
  double scale = 0;  // X_c
  double r2 = 0;
  double predict(double x) const;
};

// Fits L = (X_c / X)^alpha to positive x and loss (>= 2 points with distinct x; UsageError
// naming the problem otherwise).
PowerLawFit fit_power_law(const std::vector<double>& x, const std::vector<double>& loss);

// Indices of the points on the compute-efficient frontier: sorted by compute, each point whose
// loss is below every point of smaller or equal compute (Kaplan's L(C) uses this envelope).
std::vector<size_t> compute_frontier(const std::vector<double>& compute, const std::vector<double>& loss);

struct ChinchillaOptions {
  double huber_delta = 1e-3;
  int polished = 8;        // L-BFGS runs, from the best grid starts
  int max_iterations = 200;  // per L-BFGS run
};

struct ChinchillaFit {
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;
  double objective = 0;  // the Huber objective at the optimum
  double r2 = 0;
  double predict(double n, double d) const;
};

ChinchillaFit fit_chinchilla(const std::vector<double>& n, const std::vector<double>& d,
                             const std::vector<double>& loss, const ChinchillaOptions& options = {});

struct Interval {
  double low = 0, high = 0;
};

// Percentile bootstrap: `resamples` times draws n points (indices into 0..n-1) with replacement
// (from `seed`), calls statistics(indices) -> k values, and returns per value the (1-level)/2 and
// (1+level)/2 quantiles over the resamples where it came out finite. A resample whose fit throws
// UsageError (e.g. all points at one x) is skipped; UsageError when fewer than half succeed.
std::vector<Interval> bootstrap_intervals(size_t n, int resamples, uint64_t seed, double level,
                                          const std::function<std::vector<double>(const std::vector<size_t>&)>& statistics);

}  // namespace lmlab::scaling
