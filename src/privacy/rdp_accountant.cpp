// RDP accountant of the Poisson-subsampled Gaussian (include/lmlab/privacy/rdp_accountant.h).
#include "lmlab/privacy/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lmlab/core/error.h"

namespace lmlab::privacy {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(e^a + e^b) and log(e^a - e^b) (a >= b), exact at -inf.
double log_add(double a, double b) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  if (hi == -kInf) return -kInf;
  return hi + std::log1p(std::exp(lo - hi));
}
double log_sub(double a, double b) {
  LMLAB_ASSERT(a >= b, "log_sub of a larger value: ", a, " < ", b);
  if (b == -kInf) return a;
  if (a == b) return -kInf;
  return a + std::log1p(-std::exp(b - a));
}

// log erfc(x); std::erfc underflows past x ~ 26, where the asymptotic series (terms to x^-10,
// error below 1e-15 relative for x >= 25) takes over.
double log_erfc(double x) {
  if (x < 25) return std::log(std::erfc(x));
  const double r = 1 / (x * x);
  const double series = 1 + r * (-0.5 + r * (0.75 + r * (-1.875 + r * (6.5625 + r * -29.53125))));
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(series);
}

// log A for integer order a: the binomial sum.
double log_a_integer(double q, double sigma, int64_t a) {
  const double log_q = std::log(q), log_1q = std::log1p(-q), inv_2s2 = 1 / (2 * sigma * sigma);
  double log_a = -kInf, log_coef = 0;  // log C(a, i)
  for (int64_t i = 0; i <= a; ++i) {
    if (i > 0) log_coef += std::log(static_cast<double>(a - i + 1) / static_cast<double>(i));
    const double di = static_cast<double>(i);
    log_a = log_add(log_a, log_coef + di * log_q + (a - di) * log_1q + (di * di - di) * inv_2s2);
  }
  return log_a;
}

// log A for fractional order a: the two signed series, C(a, i) tracked as sign and log |.|.
double log_a_fractional(double q, double sigma, double a) {
  double log_a0 = -kInf, log_a1 = -kInf, log_coef = 0;
  bool positive = true;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5, inv_2s2 = 1 / (2 * sigma * sigma);
  const double log_q = std::log(q), log_1q = std::log1p(-q), log_half = std::log(0.5), inv_r2s = 1 / (std::sqrt(2.0) * sigma);
  for (int64_t i = 0;; ++i) {
    if (i > 0) {
      const double factor = (a - (i - 1)) / i;  // C(a, i) = C(a, i-1) (a - i + 1) / i
      if (factor < 0) positive = !positive;
      log_coef += std::log(std::fabs(factor));
    }
    const double di = static_cast<double>(i), j = a - di;
    const double log_t0 = log_coef + di * log_q + j * log_1q;
    const double log_t1 = log_coef + j * log_q + di * log_1q;
    const double log_e0 = log_half + log_erfc((di - z0) * inv_r2s);
    const double log_e1 = log_half + log_erfc((z0 - j) * inv_r2s);
    const double log_s0 = log_t0 + (di * di - di) * inv_2s2 + log_e0;
    const double log_s1 = log_t1 + (j * j - j) * inv_2s2 + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
  }
  return log_add(log_a0, log_a1);
}

void check_q_sigma(double q, double sigma) {
  LMLAB_CHECK(std::isfinite(q) && q > 0 && q <= 1, UsageError, "sampling rate q = ", q,
              " is outside (0, 1]; use q = expected batch size / dataset size");
  LMLAB_CHECK(std::isfinite(sigma) && sigma > 0, UsageError, "noise multiplier sigma = ", sigma,
              " must be finite and > 0");
}

// The sums above take about `order` terms: beyond this an order would run for minutes, and no
// accountant's default goes past 1024.
constexpr double kMaxOrder = 10000;

void check_order(double order) {
  LMLAB_CHECK(std::isfinite(order) && order > 1 && order <= kMaxOrder, UsageError, "RDP order ", order,
              " must be in (1, ", kMaxOrder, "] (Opacus's defaults are 1.1 .. 63)");
}

void check_delta(double delta) {
  LMLAB_CHECK(std::isfinite(delta) && delta > 0 && delta < 1, UsageError, "delta = ", delta,
              " is outside (0, 1); a common choice is 1 / dataset size or smaller");
}

void check_steps(int64_t steps) {
  LMLAB_CHECK(steps >= 1, UsageError, "steps = ", steps, " must be >= 1");
}

}  // namespace

std::vector<double> default_rdp_orders() {
  std::vector<double> orders;
  for (int x = 1; x <= 99; ++x) orders.push_back(1 + x / 10.0);
  for (int x = 12; x <= 63; ++x) orders.push_back(x);
  return orders;
}

double subsampled_gaussian_rdp(double q, double sigma, double order) {
  check_q_sigma(q, sigma);
  check_order(order);
  if (q == 1) return order / (2 * sigma * sigma);
  const double log_a = order == std::floor(order) ? log_a_integer(q, sigma, static_cast<int64_t>(order))
                                                  : log_a_fractional(q, sigma, order);
  return log_a / (order - 1);
}

std::vector<double> subsampled_gaussian_rdp(double q, double sigma, int64_t steps,
                                            const std::vector<double>& orders) {
  check_steps(steps);
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (double a : orders) rdp.push_back(static_cast<double>(steps) * subsampled_gaussian_rdp(q, sigma, a));
  return rdp;
}

PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta,
                            RdpConversion conversion) {
  check_delta(delta);
  LMLAB_CHECK(!orders.empty() && orders.size() == rdp.size(), UsageError, "rdp_to_epsilon needs one RDP value per order; got ",
              orders.size(), " orders and ", rdp.size(), " values");
  PrivacySpent best{kInf, orders.front()};
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i];
    check_order(a);
    const double eps = conversion == RdpConversion::Balle2020
                           ? rdp[i] + std::log((a - 1) / a) - (std::log(delta) + std::log(a)) / (a - 1)
                           : rdp[i] - std::log(delta) / (a - 1);
    if (eps < best.epsilon) best = {eps, a};
  }
  best.epsilon = std::max(best.epsilon, 0.0);  // the Balle bound can dip below 0 when rdp ~ 0
  return best;
}

void AccountantOptions::validate() const {
  LMLAB_CHECK(!orders_.empty(), UsageError, "the accountant needs at least one RDP order");
  for (double a : orders_) check_order(a);
  // Below 1e-9 the bisection would chase rounding noise (epsilon is a sum of logs) for good.
  LMLAB_CHECK(epsilon_tolerance_ >= 1e-9 && epsilon_tolerance_ < 1, UsageError, "epsilon tolerance ",
              epsilon_tolerance_, " must be in [1e-9, 1); Opacus uses 0.01");
}

PrivacySpent dp_sgd_epsilon(double sigma, double q, int64_t steps, double delta, const AccountantOptions& options) {
  options.validate();
  check_delta(delta);
  return rdp_to_epsilon(options.orders(), subsampled_gaussian_rdp(q, sigma, steps, options.orders()), delta,
                        options.conversion());
}

double dp_sgd_noise_multiplier(double target_epsilon, double q, int64_t steps, double delta,
                               const AccountantOptions& options) {
  LMLAB_CHECK(std::isfinite(target_epsilon) && target_epsilon > 0, UsageError, "target epsilon = ",
              target_epsilon, " must be finite and > 0");
  check_q_sigma(q, 1.0);
  check_steps(steps);
  check_delta(delta);
  options.validate();
  const auto eps_at = [&](double sigma) { return dp_sgd_epsilon(sigma, q, steps, delta, options).epsilon; };
  constexpr double kMaxSigma = 1 << 20;
  double low = 0, high = 10, eps_high = kInf;
  while (eps_high > target_epsilon) {
    high *= 2;
    LMLAB_CHECK(high <= kMaxSigma, UsageError, "no noise multiplier up to ", kMaxSigma, " reaches epsilon ",
                target_epsilon, " at delta ", delta, "; raise the target epsilon or delta");
    eps_high = eps_at(high);
  }
  while (target_epsilon - eps_high > options.epsilon_tolerance()) {
    const double mid = (low + high) / 2;
    if (mid <= low || mid >= high) break;  // sigma resolved to the last bit
    const double eps = eps_at(mid);
    if (eps < target_epsilon) {
      high = mid;
      eps_high = eps;
    } else {
      low = mid;
    }
  }
  return high;
}

RdpAccountant::RdpAccountant(AccountantOptions options) : options_(std::move(options)) {
  options_.validate();
  rdp_.assign(options_.orders().size(), 0.0);
}

void RdpAccountant::step(double sigma, double q, int64_t steps) {
  const std::vector<double> add = subsampled_gaussian_rdp(q, sigma, steps, options_.orders());
  for (size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += add[i];
  steps_ += steps;
}

PrivacySpent RdpAccountant::spent(double delta) const {
  LMLAB_CHECK(steps_ >= 1, UsageError, "the accountant has recorded no step yet");
  return rdp_to_epsilon(options_.orders(), rdp_, delta, options_.conversion());
}

}  // namespace lmlab::privacy
