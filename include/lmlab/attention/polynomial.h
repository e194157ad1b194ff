// The polynomial method for attention (P5, arXiv 2311.14652, after Alman & Song, arXiv 2302.13214):
// a degree-g polynomial P ~ exp on the score range [-R, R] and exact feature maps phi1, phi2 with
//
//   <phi1(q), phi2(k)> = P(s),   s = c <q, k>,   phi1, phi2 : R^d -> R^t,   t = C(d+g, g),
//
// so that the attention weights exp(s_ij) of Q [n, d], K [n, d] become U1 U2^T with U1 = phi1(Q),
// U2 = phi2(K) [n, t] (Alman-Song use c = 1/d: scores exp(Q K^T / d)).
//
// ExpPolynomial (src/attention/exp_polynomial.cpp): Chebyshev interpolation of exp at the g+1
// Chebyshev nodes of [-R, R], stored as monomial coefficients a_0..a_g. Its relative error bound:
// exp(R u) = I_0(R) + 2 sum_j I_j(R) T_j(u) (Chebyshev series, I_j modified Bessel functions), and
// interpolation aliases every term j > g onto one of degree <= g, so |P(x) - e^x| <= 4 sum_{j>g}
// I_j(R) on the range; dividing by min e^x = e^-R,
//
//   |P(x) - e^x| <= delta e^x on [-R, R],   delta = 4 e^R sum_{j>g} I_j(R)            (our bound)
//
// (degree 8 gives 1.0e-4 on [-2, 2], as NOTES.md P5 says; about 4x sharper than the derivative
// bound R^(g+1) e^(2R) / (2^g (g+1)!)). The fit refuses, with a UsageError naming R, the degree it
// would need and the fix, configurations whose bound exceeds the requested error: scores (entries)
// too large for the degree budget. Deviation: the paper picks g from n for a 1/poly(n) error; here
// the user asks for an error and gets the smallest degree that meets it (or names a degree).
//
// PolynomialFeatures (src/attention/polynomial_features.cpp): phi2(k) holds the t monomials k^alpha,
// |alpha| <= g; phi1(q)_alpha = a_|alpha| c^|alpha| (|alpha|! / alpha!) q^alpha, so by the
// multinomial theorem sum_{|alpha| = m} (m!/alpha!) q^alpha k^alpha = <q,k>^m and the inner product
// is P(c <q,k>) exactly (up to rounding). Features are computed in float64, x [n, d] -> [n, t].
// Monomial order: by degree, then by smallest variable index, then recursively (each degree-m block
// with smallest index i is x_i times the contiguous degree-(m-1) suffix of indices >= i).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace lmlab::attention {

struct ExpPolynomialOptions {
  TORCH_ARG(int64_t, degree) = 0;            // g; 0: the smallest degree whose bound meets max_rel_error
  TORCH_ARG(double, max_rel_error) = 1e-3;   // delta requested: refuse when the bound exceeds it
  TORCH_ARG(int64_t, max_degree) = 30;       // largest degree the automatic choice may take
};

// delta(g, R) above: the relative error bound of the degree-g Chebyshev interpolant of exp on [-R, R].
double exp_interpolation_error_bound(int64_t degree, double radius);

class ExpPolynomial {
 public:
  // Fits P on [-radius, radius] (radius > 0, finite). UsageError when the bound exceeds
  // options.max_rel_error (or >= 1, where P could vanish) at the requested degree, or at every
  // degree up to max_degree when the degree is automatic.
  ExpPolynomial(double radius, const ExpPolynomialOptions& options = {});

  int64_t degree() const { return static_cast<int64_t>(coefficients_.size()) - 1; }
  double radius() const { return radius_; }
  // delta: |P(x) - e^x| <= delta e^x for |x| <= radius.
  double rel_error_bound() const { return rel_error_bound_; }
  // a_0..a_g of P(x) = sum_m a_m x^m.
  const std::vector<double>& coefficients() const { return coefficients_; }
  // P(x) elementwise (Horner, float64).
  torch::Tensor operator()(const torch::Tensor& x) const;

 private:
  double radius_;
  double rel_error_bound_;
  std::vector<double> coefficients_;
};

// t = C(d+g, g): monomials of degree <= g in d variables (saturates at INT64_MAX).
int64_t polynomial_feature_dim(int64_t dim, int64_t degree);

class PolynomialFeatures {
 public:
  // Feature maps for P(scale <q,k>) in `dim` variables.
  PolynomialFeatures(int64_t dim, double scale, ExpPolynomial polynomial);

  int64_t dim() const { return dim_; }
  int64_t feature_dim() const { return weights_.size(0); }  // t
  double scale() const { return scale_; }
  const ExpPolynomial& polynomial() const { return polynomial_; }

  // x [n, d] -> float64 [n, t], contiguous. No input checks here (callers validate): the hot path.
  torch::Tensor monomials(const torch::Tensor& x) const { return features(x, false); }
  torch::Tensor phi1(const torch::Tensor& q) const { return features(q, true); }  // [n, t]
  torch::Tensor phi2(const torch::Tensor& k) const { return features(k, false); }
  // The weights a_|alpha| c^|alpha| |alpha|!/alpha! of phi1 [t], float64.
  const torch::Tensor& weights() const { return weights_; }

 private:
  // The monomials of x's rows, times weights_ when `weighted`.
  torch::Tensor features(const torch::Tensor& x, bool weighted) const;
  // Degree-m block with smallest variable index i: columns [begin, begin + length) of the features.
  struct Block {
    int64_t degree, var, begin, length, source_begin;  // source: the degree-(m-1) suffix it multiplies
  };
  int64_t dim_;
  double scale_;
  ExpPolynomial polynomial_;
  std::vector<Block> blocks_;
  torch::Tensor weights_;
};

}  // namespace lmlab::attention
