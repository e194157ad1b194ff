// PolynomialFeatures: the exact feature maps of P(c <q,k>) (include/lmlab/streaming_attention/polynomial_features.h).
#include <cmath>
#include <limits>
#include <utility>

#include "lmlab/streaming_attention/polynomial_features.h"

#include <ATen/Parallel.h>
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

namespace lmlab::streaming_attention {

int64_t polynomial_feature_dim(int64_t dim, int64_t degree) {
  LMLAB_CHECK(dim >= 1 && degree >= 0, UsageError, "feature dimension needs d >= 1 and g >= 0, got d = ", dim,
              ", g = ", degree);
  // C(d+g, g) = prod_{m=1..g} (d+m)/m, exact in integers at every step; saturate on overflow.
  int64_t t = 1;
  for (int64_t m = 1; m <= degree; ++m) {
    if (t > std::numeric_limits<int64_t>::max() / (dim + m)) return std::numeric_limits<int64_t>::max();
    t = t * (dim + m) / m;
  }
  return t;
}

PolynomialFeatures::PolynomialFeatures(int64_t dim, double scale, ExpPolynomial polynomial)
    : dim_(dim), scale_(scale), polynomial_(std::move(polynomial)) {
  LMLAB_CHECK(dim >= 1, UsageError, "polynomial features need d >= 1, got ", dim);
  LMLAB_CHECK(scale > 0 && std::isfinite(scale), UsageError, "the score scale c must be finite and > 0, got ",
              scale);
  const int64_t g = polynomial_.degree();
  const int64_t t = polynomial_feature_dim(dim, g);
  constexpr int64_t kMaxEntries = int64_t{1} << 28;  // exponents built, a few seconds
  LMLAB_CHECK(t <= kMaxEntries / dim, UsageError, "polynomial features of degree ", g, " in d = ", dim, " need t = ",
              t, " features of d exponents each (", static_cast<double>(t) * static_cast<double>(dim),
              " entries, limit 2^28); lower d or the degree");
  // int16 exponents (degrees are at most 400) while building, float64 weights.
  check_memory("polynomial features of degree " + std::to_string(g) + " in d = " + std::to_string(dim) + " (t = " +
                   std::to_string(t) + ")",
               static_cast<double>(t) * (2.0 * static_cast<double>(dim) + 8.0), "lower d or the degree");
  // Exponent vectors of every monomial (row f: entries [f d, f d + d)), built block by block in
  // feature order.
  std::vector<int16_t> exponents(static_cast<size_t>(dim), 0);
  exponents.reserve(static_cast<size_t>(t * dim));
  // first[i]: start of the block of smallest index i in the previous degree; the degree-0 monomial 1
  // counts as having every smallest index.
  std::vector<int64_t> first(dim, 0);
  int64_t prev_end = 1;
  for (int64_t m = 1; m <= g; ++m) {
    std::vector<int64_t> next_first(dim);
    const int64_t begin_of_degree = static_cast<int64_t>(exponents.size()) / dim;
    for (int64_t i = 0; i < dim; ++i) {
      const Block b{m, i, static_cast<int64_t>(exponents.size()) / dim, prev_end - first[i], first[i]};
      next_first[i] = b.begin;
      for (int64_t f = 0; f < b.length; ++f) {
        const size_t row = exponents.size(), source = static_cast<size_t>((b.source_begin + f) * dim);
        for (int64_t j = 0; j < dim; ++j) exponents.push_back(exponents[source + static_cast<size_t>(j)]);
        ++exponents[row + static_cast<size_t>(i)];
      }
      blocks_.push_back(b);
    }
    first = next_first;
    prev_end = static_cast<int64_t>(exponents.size()) / dim;
    LMLAB_ASSERT(prev_end - begin_of_degree == polynomial_feature_dim(dim, m) - polynomial_feature_dim(dim, m - 1),
                 "degree ", m, " has ", prev_end - begin_of_degree, " monomials");
  }
  LMLAB_ASSERT(static_cast<int64_t>(exponents.size()) == t * dim, "built ", exponents.size() / dim,
               " features, expected ", t);

  // a_m c^m m! / alpha!, in log space for the factorials.
  weights_ = torch::empty({t}, torch::kDouble);
  double* w = weights_.data_ptr<double>();
  const std::vector<double>& a = polynomial_.coefficients();
  for (int64_t f = 0; f < t; ++f) {
    int64_t m = 0;
    double log_multinomial = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const int64_t e = exponents[static_cast<size_t>(f * dim + j)];
      m += e;
      log_multinomial -= std::lgamma(static_cast<double>(e) + 1);
    }
    log_multinomial += std::lgamma(static_cast<double>(m) + 1);
    w[f] = a[m] * std::pow(scale, static_cast<double>(m)) * std::round(std::exp(log_multinomial));
  }
}

torch::Tensor PolynomialFeatures::features(const torch::Tensor& x, bool weighted) const {
  // One token at a time, each block a contiguous run dst[f] = src[f] * x_var within the token's
  // row; tokens split across LibTorch's intra-op threads (one synchronisation per call, where
  // tensor ops per block would synchronise d g times).
  const torch::Tensor xd = x.to(torch::kDouble).contiguous();
  const int64_t n = xd.size(0), d = dim_, t = feature_dim();
  check_memory("polynomial features of " + std::to_string(n) + " rows (t = " + std::to_string(t) + " each)",
               8.0 * static_cast<double>(n) * static_cast<double>(t), "lower d, the degree or the rows per call");
  torch::Tensor out = torch::empty({n, t}, torch::kDouble);
  const double* xs = xd.data_ptr<double>();
  double* os = out.data_ptr<double>();
  const double* w = weights_.data_ptr<double>();
  at::parallel_for(0, n, std::max<int64_t>(1, (int64_t{1} << 15) / t), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double* row = os + i * t;
      const double* xi = xs + i * d;
      row[0] = 1.0;
      for (const Block& b : blocks_) {
        const double v = xi[b.var];
        const double* src = row + b.source_begin;
        double* dst = row + b.begin;
        for (int64_t f = 0; f < b.length; ++f) dst[f] = src[f] * v;
      }
      if (weighted)
        for (int64_t f = 0; f < t; ++f) row[f] *= w[f];  // while the row is in cache
    }
  });
  return out;
}

}  // namespace lmlab::streaming_attention
