// Privacy accountant of DP-SGD (P6, arXiv 2311.13624, its DP cost of Gaussian gradient noise):
// Renyi differential privacy (RDP) of the Poisson-subsampled Gaussian mechanism (Mironov, Talwar,
// Zhang 2019, arXiv 1908.10530), composed over steps and converted to (epsilon, delta).
//
// One step with sampling rate q and noise multiplier sigma has, at order a > 1,
//   RDP(a) = log A(a) / (a - 1),
//   integer a:    A = sum_{i=0..a} C(a,i) q^i (1-q)^(a-i) exp((i^2 - i) / (2 sigma^2))
//   fractional a: A = sum_{i>=0} (S0_i + S1_i), the two signed series of Mironov et al. sec. 3.3
//                 with z0 = sigma^2 log(1/q - 1) + 1/2, summed in log space until both terms
//                 fall below e^-30 (the stopping rule TF-Privacy and Opacus use);
//   q = 1:        RDP(a) = a / (2 sigma^2) (the plain Gaussian mechanism, exact).
// T steps compose additively: RDP_T(a) = T RDP(a). Conversion to epsilon at delta, minimised
// over the orders:
//   Balle2020 (Balle et al. 2020, Opacus's):  eps = rdp + log((a-1)/a) - (log delta + log a)/(a-1)
//   Classic   (Mironov 2017):                 eps = rdp - log delta / (a-1)
// Default orders are Opacus's: 1 + x/10 for x = 1..99, then 12..63.
#pragma once

#include <cstdint>
#include <vector>

namespace lmlab::privacy {

enum class RdpConversion { Balle2020, Classic };

// Opacus's default orders (151 values: 99 fractional, 52 integer).
std::vector<double> default_rdp_orders();

// RDP of one step of the Poisson-subsampled Gaussian at order `order` in (1, 10000].
// UsageError: q outside (0, 1], sigma <= 0 or not finite, order outside (1, 10000].
double subsampled_gaussian_rdp(double q, double sigma, double order);

// RDP after `steps` steps, one value per order.
std::vector<double> subsampled_gaussian_rdp(double q, double sigma, int64_t steps,
                                            const std::vector<double>& orders);

struct PrivacySpent {
  double epsilon = 0;
  double order = 0;  // the order that gives the smallest epsilon
};

// Smallest epsilon over the orders for the composed RDP values. UsageError: delta outside (0, 1),
// orders and rdp of different lengths or empty, an order <= 1.
PrivacySpent rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp, double delta,
                            RdpConversion conversion = RdpConversion::Balle2020);

struct AccountantOptions {
  AccountantOptions& orders(std::vector<double> v) { return orders_ = std::move(v), *this; }
  AccountantOptions& conversion(RdpConversion c) { return conversion_ = c, *this; }
  // Bisection of dp_sgd_noise_multiplier stops once epsilon is within this of the target (Opacus's
  // epsilon_tolerance).
  AccountantOptions& epsilon_tolerance(double t) { return epsilon_tolerance_ = t, *this; }
  const std::vector<double>& orders() const { return orders_; }
  RdpConversion conversion() const { return conversion_; }
  double epsilon_tolerance() const { return epsilon_tolerance_; }
  // UsageError on empty orders, an order outside (1, 10000], or a tolerance not in [1e-9, 1).
  void validate() const;

 private:
  std::vector<double> orders_ = default_rdp_orders();
  RdpConversion conversion_ = RdpConversion::Balle2020;
  double epsilon_tolerance_ = 0.01;
};

// (epsilon, best order) of DP-SGD: `steps` steps of rate q and noise multiplier sigma at delta.
// UsageError on steps < 1 and the ranges above.
PrivacySpent dp_sgd_epsilon(double sigma, double q, int64_t steps, double delta,
                            const AccountantOptions& options = {});

// The noise multiplier for a target epsilon (Opacus's get_noise_multiplier): doubles an upper
// bracket from sigma = 10 until epsilon <= target, then bisects on [0, upper] until
// target - tolerance < epsilon(sigma) <= target, and returns that sigma. UsageError on a target
// epsilon <= 0 and when no sigma below 2^20 reaches the target.
double dp_sgd_noise_multiplier(double target_epsilon, double q, int64_t steps, double delta,
                               const AccountantOptions& options = {});

// Composition over a training run whose rate or noise may change: each step() adds its RDP.
class RdpAccountant {
 public:
  explicit RdpAccountant(AccountantOptions options = {});
  void step(double sigma, double q, int64_t steps = 1);
  PrivacySpent spent(double delta) const;
  int64_t steps() const { return steps_; }

 private:
  AccountantOptions options_;
  std::vector<double> rdp_;
  int64_t steps_ = 0;
};

}  // namespace lmlab::privacy
