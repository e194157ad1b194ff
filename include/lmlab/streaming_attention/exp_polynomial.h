// The exponential as a polynomial for the polynomial method of attention (P5, arXiv 2311.14652,
// after Alman & Song, arXiv 2302.13214); the feature maps built on it: polynomial_features.h.
//
// ExpPolynomial (src/streaming_attention/exp_polynomial.cpp): Chebyshev interpolation of exp at the g+1
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
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace lmlab::streaming_attention {

struct ExpPolynomialOptions {
  TORCH_ARG(int64_t, degree) = 0;            // g <= 400; 0: the smallest degree whose bound meets max_rel_error
  TORCH_ARG(double, max_rel_error) = 1e-3;   // delta requested: refuse when the bound exceeds it
  TORCH_ARG(int64_t, max_degree) = 30;       // largest degree the automatic choice may take, <= 400
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

}  // namespace lmlab::streaming_attention
