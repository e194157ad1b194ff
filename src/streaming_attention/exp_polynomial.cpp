// ExpPolynomial: Chebyshev interpolation of exp on [-R, R] and its relative error bound
// (include/lmlab/streaming_attention/exp_polynomial.h).
#include <cmath>
#include <limits>

#include "lmlab/streaming_attention/exp_polynomial.h"
#include "lmlab/core/error.h"

namespace lmlab::streaming_attention {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Degrees searched when naming the degree a refused configuration would need, and the largest
// degree a polynomial may have (its features grow as C(d + g, g)).
constexpr int64_t kLargestNamedDegree = 400;
// Above this radius e^R overflows a double: no bound is finite.
constexpr double kLargestRadius = 700;

// I_j(x), the modified Bessel function of the first kind, by its power series
// sum_m (x/2)^(2m+j) / (m! (m+j)!), all terms positive; the first term in log space.
double bessel_i(int64_t j, double x) {
  const double h = x / 2;
  double term = std::exp(static_cast<double>(j) * std::log(h) - std::lgamma(static_cast<double>(j) + 1));
  double sum = 0;
  for (int64_t m = 0; term > 1e-18 * sum || m == 0; ++m) {
    sum += term;
    term *= h * h / (static_cast<double>(m + 1) * static_cast<double>(m + 1 + j));
  }
  return sum;
}

}  // namespace

double exp_interpolation_error_bound(int64_t degree, double radius) {
  LMLAB_CHECK(degree >= 0, UsageError, "the degree of the exp polynomial must be >= 0, got ", degree);
  LMLAB_CHECK(radius > 0 && std::isfinite(radius), UsageError, "the score radius R must be finite and > 0, got ",
              radius);
  // The sum below takes O(R^2) steps; past kLargestRadius its factor e^R is infinite anyway (a
  // radius of 3e11 kept the `pyargs` fuzz target's StreamingAttention busy for good).
  if (radius > kLargestRadius) return std::numeric_limits<double>::infinity();
  // sum_{j>g} I_j(R): terms until negligible, then the tail bound I_{j+1}/I_j <= R / (2(j+1))
  // (from the series), geometric once that ratio is below 1/2.
  double sum = 0, term = bessel_i(degree + 1, radius);
  int64_t j = degree + 1;
  for (;; ++j) {
    sum += term;
    const double ratio = radius / (2.0 * static_cast<double>(j + 1));
    if (ratio <= 0.5 && term * ratio / (1 - ratio) <= 1e-17 * sum) {
      sum += term * ratio / (1 - ratio);
      break;
    }
    term = bessel_i(j + 1, radius);
  }
  return 4 * std::exp(radius) * sum;
}

ExpPolynomial::ExpPolynomial(double radius, const ExpPolynomialOptions& options) : radius_(radius) {
  LMLAB_CHECK(radius > 0 && std::isfinite(radius), UsageError, "the score radius R must be finite and > 0, got ",
              radius, "; it is the largest |score| the polynomial must cover");
  const double eps = options.max_rel_error();
  LMLAB_CHECK(eps > 0 && eps < 1, UsageError, "max_rel_error must be in (0, 1), got ", eps);
  LMLAB_CHECK(options.degree() >= 0 && options.max_degree() >= 1 && options.degree() <= kLargestNamedDegree &&
                  options.max_degree() <= kLargestNamedDegree,
              UsageError, "degree must be in [0, ", kLargestNamedDegree, "] (0: automatic) and max_degree in [1, ",
              kLargestNamedDegree, "], got ", options.degree(), " and ", options.max_degree());
  const auto meets = [&](int64_t g) { return exp_interpolation_error_bound(g, radius) <= eps; };
  int64_t g = options.degree();
  if (g == 0) {
    for (int64_t c = 1; c <= options.max_degree() && g == 0; ++c)
      if (meets(c)) g = c;
  }
  if (g == 0 || !meets(g)) {
    int64_t needed = std::max<int64_t>(g, 1);
    while (needed < kLargestNamedDegree && !meets(needed)) ++needed;
    const int64_t shown = g == 0 ? options.max_degree() : g;
    throw UsageError(detail::concat(
        "exp polynomial on [-", radius, ", ", radius, "]: degree ", shown, " only guarantees relative error ",
        exp_interpolation_error_bound(shown, radius), " > the requested ", eps, "; it would take degree ",
        needed >= kLargestNamedDegree ? "above " : "", needed,
        (g == 0 ? " (max_degree is " + std::to_string(options.max_degree()) + ")" : std::string()),
        ". The scores are too large for this error: bound the entries of q and k more tightly (R = scale * d * "
        "B^2), raise max_rel_error, or allow a higher degree"));
  }

  // Chebyshev coefficients of the interpolant at the nodes u_k = cos(pi (k + 1/2) / (g + 1)).
  const int64_t n = g + 1;
  std::vector<double> cheb(n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t k = 0; k < n; ++k) {
      const double theta = kPi * (static_cast<double>(k) + 0.5) / static_cast<double>(n);
      cheb[j] += std::exp(radius * std::cos(theta)) * std::cos(static_cast<double>(j) * theta);
    }
    cheb[j] *= (j == 0 ? 1.0 : 2.0) / static_cast<double>(n);
  }
  // Monomial form in u = x / R via T_{j+1} = 2 u T_j - T_{j-1}, then a_m = (coefficient of u^m) / R^m.
  std::vector<double> in_u(n, 0.0), t_prev(n, 0.0), t_cur(n, 0.0), t_next(n, 0.0);
  t_prev[0] = 1;  // T_0
  if (n > 1) t_cur[1] = 1;  // T_1
  for (int64_t j = 0; j < n; ++j) {
    const std::vector<double>& tj = j == 0 ? t_prev : t_cur;
    for (int64_t m = 0; m < n; ++m) in_u[m] += cheb[j] * tj[m];
    if (j >= 1 && j + 1 < n) {
      for (int64_t m = 0; m < n; ++m) t_next[m] = (m > 0 ? 2 * t_cur[m - 1] : 0.0) - t_prev[m];
      t_prev.swap(t_cur);
      t_cur.swap(t_next);
    }
  }
  coefficients_.resize(n);
  for (int64_t m = 0; m < n; ++m) coefficients_[m] = in_u[m] / std::pow(radius, static_cast<double>(m));
  rel_error_bound_ = exp_interpolation_error_bound(g, radius);
}

torch::Tensor ExpPolynomial::operator()(const torch::Tensor& x) const {
  const torch::Tensor u = x.to(torch::kDouble);
  torch::Tensor p = torch::full_like(u, coefficients_.back());
  for (int64_t m = degree() - 1; m >= 0; --m) p = p.mul_(u).add_(coefficients_[m]);
  return p;
}

}  // namespace lmlab::streaming_attention
