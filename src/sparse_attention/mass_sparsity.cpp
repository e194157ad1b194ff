// The mass-based sparsity measure k_eps and mass-threshold selection (P3, arXiv 2404.02690;
// include/lmlab/sparse_attention/mass_sparsity.h).
//
//   k_eps(row) = min { |H| : sum_{j in H} p_j >= (1 - eps) sum_j p_j },  p = softmax(s) [..., S],
// attained by the largest entries: sort the row descending, take the shortest prefix whose cumulative
// mass reaches the target. Two implementations of the same rule, which the tests compare:
//   * k_eps_from_scores / k_eps_from_probabilities: LibTorch ops over whole maps (sort + cumsum in
//     double), for analysis;
//   * select_mass_row: one row inside the sparse attention kernel, without sorting the whole row:
//     it sorts the top c entries (nth_element, then sort) for c = 64, 128, ... until the target
//     is reached, O(m log k_eps) per row.
// The law k_eps ~ n Qn(tau - z_{1-eps}) for n i.i.d. N(0, tau^2) scores is our reading ([ours],
// NOTES.md P3): tilting N(0, tau^2) by e^s gives N(tau^2, tau^2), so the largest entries holding
// 1 - eps of the mass are those above t = tau^2 - tau z_{1-eps}, and n P(s > t) = n Qn(tau - z).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sparse_attention/sparse_internal.h"
#include "lmlab/sparse_attention/mass_sparsity.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/core/error.h"

namespace lmlab::sparse_attention {
namespace detail {

template <typename T>
int64_t select_mass_row(const T* s, int64_t m, double eps, std::vector<int64_t>& order, double& max,
                        double& normaliser) {
  max = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < m; ++j) max = std::max(max, static_cast<double>(s[j]));
  normaliser = 0;
  for (int64_t j = 0; j < m; ++j) normaliser += std::exp(static_cast<double>(s[j]) - max);
  const double target = (1.0 - eps) * normaliser;
  order.resize(m);
  std::iota(order.begin(), order.end(), int64_t{0});
  const ScoreOrder<T> before{s};
  double mass = 0;
  for (int64_t done = 0, c = std::min<int64_t>(m, 64);; done = c, c = std::min(m, 2 * c)) {
    if (c < m) std::nth_element(order.begin() + done, order.begin() + c, order.end(), before);
    std::sort(order.begin() + done, order.begin() + c, before);
    for (int64_t j = done; j < c; ++j) {
      mass += std::exp(static_cast<double>(s[order[j]]) - max);
      if (mass >= target) return j + 1;
    }
    if (c == m) return m;  // rounding left the full sum a hair below the target
  }
}

template int64_t select_mass_row<float>(const float*, int64_t, double, std::vector<int64_t>&, double&, double&);
template int64_t select_mass_row<double>(const double*, int64_t, double, std::vector<int64_t>&, double&, double&);

}  // namespace detail

namespace {

void check_eps(double eps) {
  LMLAB_CHECK(eps > 0 && eps < 1, UsageError, "eps must lie in (0, 1) (the softmax mass a row may drop); got ",
              eps);
}

void check_map(const torch::Tensor& x, const char* what) {
  LMLAB_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) >= 1, UsageError, "k_eps needs ", what,
              " of shape [..., S] with S >= 1; got ", x.defined() ? x.sizes() : torch::IntArrayRef{});
  LMLAB_CHECK(x.is_floating_point(), UsageError, "k_eps needs floating-point ", what, "; got ", x.dtype());
}

// k_eps of rows of non-negative masses [..., S] (double).
torch::Tensor k_eps_of_masses(const torch::Tensor& mass, double eps) {
  const torch::Tensor cumulative = std::get<0>(mass.sort(-1, /*descending=*/true)).cumsum(-1);
  const torch::Tensor target = cumulative.select(-1, -1).unsqueeze(-1) * (1.0 - eps);
  // The first prefix reaching the target is one longer than the number of prefixes below it.
  return (cumulative < target).sum(-1).add(1).clamp_max(mass.size(-1)).to(torch::kLong);
}

}  // namespace

torch::Tensor k_eps_from_scores(const torch::Tensor& scores, double eps) {
  check_eps(eps);
  check_map(scores, "scores");
  torch::NoGradGuard no_grad;
  const torch::Tensor s = scores.detach().to(torch::kDouble);
  LMLAB_CHECK(!(s.isnan().any().item<bool>() || (s == std::numeric_limits<double>::infinity()).any().item<bool>()),
              DataError, "k_eps: scores hold NaN or +Inf; only -Inf (a masked entry) is allowed");
  LMLAB_CHECK(torch::isfinite(s).any(-1).all().item<bool>(), DataError,
              "k_eps: a row of scores is entirely masked (-Inf); every row needs a visible entry");
  return k_eps_of_masses(torch::softmax(s, -1), eps);
}

torch::Tensor k_eps_from_probabilities(const torch::Tensor& probabilities, double eps) {
  check_eps(eps);
  check_map(probabilities, "probabilities");
  torch::NoGradGuard no_grad;
  const torch::Tensor p = probabilities.detach().to(torch::kDouble);
  LMLAB_CHECK(torch::isfinite(p).all().item<bool>() && (p >= 0).all().item<bool>(), DataError,
              "k_eps: probabilities must be finite and non-negative");
  LMLAB_CHECK((p.sum(-1) > 0).all().item<bool>(), DataError, "k_eps: a row of probabilities sums to 0");
  return k_eps_of_masses(p, eps);
}

double normal_tail(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

double normal_quantile(double p) {
  LMLAB_CHECK(p > 0 && p < 1, UsageError, "normal_quantile needs 0 < p < 1; got ", p);
  // By symmetry Phi^-1(p) = -x with Qn(x) = p for p < 1/2: bisect on the tail itself (erfc keeps its
  // relative precision down to 1e-308), never on 1 - p, which loses every digit below 1e-16.
  const double tail = std::min(p, 1.0 - p);
  double lo = 0, hi = 40;  // Qn decreases in x; Qn(40) underflows to 0
  for (int i = 0; i < 200 && hi - lo > 1e-15 * std::max(1.0, lo); ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_tail(mid) > tail ? lo : hi) = mid;
  }
  const double x = 0.5 * (lo + hi);
  return p < 0.5 ? -x : x;
}

double k_eps_gaussian_law(double n, double tau, double eps) {
  check_eps(eps);
  LMLAB_CHECK(n >= 1 && tau >= 0, UsageError, "k_eps_gaussian_law needs n >= 1 and tau >= 0; got n = ", n,
              ", tau = ", tau);
  return n * normal_tail(tau - normal_quantile(1.0 - eps));
}

}  // namespace lmlab::sparse_attention
