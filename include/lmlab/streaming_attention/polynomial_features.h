// The polynomial method for attention (P5, arXiv 2311.14652, after Alman & Song, arXiv 2302.13214):
// a degree-g polynomial P ~ exp on the score range [-R, R] and exact feature maps phi1, phi2 with
//
//   <phi1(q), phi2(k)> = P(s),   s = c <q, k>,   phi1, phi2 : R^d -> R^t,   t = C(d+g, g),
//
// so that the attention weights exp(s_ij) of Q [n, d], K [n, d] become U1 U2^T with U1 = phi1(Q),
// U2 = phi2(K) [n, t] (Alman-Song use c = 1/d: scores exp(Q K^T / d)). P itself: exp_polynomial.h.
//
// PolynomialFeatures (src/streaming_attention/polynomial_features.cpp): phi2(k) holds the t monomials k^alpha,
// |alpha| <= g; phi1(q)_alpha = a_|alpha| c^|alpha| (|alpha|! / alpha!) q^alpha, so by the
// multinomial theorem sum_{|alpha| = m} (m!/alpha!) q^alpha k^alpha = <q,k>^m and the inner product
// is P(c <q,k>) exactly (up to rounding). Features are computed in float64, x [n, d] -> [n, t].
// Monomial order: by degree, then by smallest variable index, then recursively (each degree-m block
// with smallest index i is x_i times the contiguous degree-(m-1) suffix of indices >= i).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "lmlab/streaming_attention/exp_polynomial.h"

namespace lmlab::streaming_attention {

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

}  // namespace lmlab::streaming_attention
