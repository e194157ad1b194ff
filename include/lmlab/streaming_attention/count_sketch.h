// CountSketch of the rows of a matrix streamed by row index, with a k-sparse per-column decoder:
// the output sketch Y of one-pass streaming attention (P5, arXiv 2311.14652; NOTES.md P5, item 3;
// Charikar, Chen & Farach-Colton 2002).
//
//   rows x_i in R^D arrive with their index i in [0, n);  Y [r, b, D],
//   Y[l, h_l(i), :] += sigma_l(i) x_i,        h_l : [n] -> [b],  sigma_l : [n] -> {-1, +1},
//   estimate x^_{i,c} = median_l sigma_l(i) Y[l, h_l(i), c],   y_c = x^_c on its k largest |x^_{i,c}|.
//
// h_l and sigma_l are degree-3 polynomials modulo the prime 2^61 - 1 with coefficients drawn from
// the seed (4-wise independent), reduced mod b and mod 2. Y is float64. Decoding scans i in [0, n)
// in chunks and keeps a running top-k per column: O(n r) time, O(k D) memory beyond Y.
//
// Guarantee (our derivation; the paper states the form, NOTES.md P5, not the constants): per
// column c with tail = ||x_c minus its k largest entries||_2, if b >= alpha k and every row l
// leaves i alone with the other k-1 heavy entries (probability >= 1 - k/b) and its light noise
// below eta = 4 tail / sqrt(b) (Chebyshev: probability >= 1 - 1/16), a row fails with
// p <= 1/alpha + 1/16; the median of r rows is within eta unless half of them fail, probability
// <= exp(-r KL(1/2 || p)) (Chernoff). A union bound over the n D estimates sets
// r = ln(n D / failure) / KL(1/2 || p). With every estimate within eta, the top-k decoder gives
// ||x_c - y_c||_2 <= tail + 3 sqrt(k) eta = (1 + 12 sqrt(k / b)) tail, so b = 144 k / eps^2 yields
//
//   ||x_c - y_c||_2 <= (1 + eps) min_{k-sparse y'} ||x_c - y'||_2   for every column, w.p. >= 1 - failure.
//
// Deviation: the paper states b = O(k / eps); the simple analysis above needs O(k / eps^2).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace lmlab::streaming_attention {

struct CountSketchOptions {
  CountSketchOptions(int64_t rows, int64_t buckets, int64_t columns)
      : rows_(rows), buckets_(buckets), columns_(columns) {}
  // The sizes of the guarantee above for sparsity k, error eps, failure probability `failure`, at
  // most `universe` rows of `columns` entries: b = ceil(144 k / eps^2), r the odd ceiling of
  // ln(universe * columns / failure) / KL(1/2 || 1/alpha + 1/16).
  static CountSketchOptions for_guarantee(int64_t k, double eps, double failure, int64_t universe, int64_t columns);
  TORCH_ARG(int64_t, rows);      // r, independent hash rows (odd r makes the median one estimate)
  TORCH_ARG(int64_t, buckets);   // b per row
  TORCH_ARG(int64_t, columns);   // D, the width of each sketched row
  TORCH_ARG(uint64_t, seed) = 0;

};

// The k largest entries of each column: indices int64 [k, D] (row indices i) and values float64 [k, D],
// by decreasing |value|.
struct SparseColumns {
  torch::Tensor indices, values;
  // The n x D matrix with these entries and zeros elsewhere.
  torch::Tensor dense(int64_t n) const;
};

class CountSketch {
 public:
  explicit CountSketch(const CountSketchOptions& options);

  // Adds rows [m, D] (finite, any float type) as indices first_index .. first_index + m - 1.
  void add(const torch::Tensor& rows, int64_t first_index);
  // The k-sparse decoding of every column over indices [0, universe); UsageError unless
  // 1 <= k <= universe.
  SparseColumns decode(int64_t k, int64_t universe) const;
  // The median estimates x^ of rows first_index .. first_index + m - 1: float64 [m, D].
  torch::Tensor estimate(int64_t first_index, int64_t m) const;

  const CountSketchOptions& options() const { return options_; }
  const torch::Tensor& table() const { return table_; }  // Y [r, b, D] float64
  // Bytes held: Y and the hash coefficients.
  int64_t bytes() const;

 private:
  // Row l's cell for index i: the flat offset (l * b + h_l(i)) * D into Y, and sigma_l(i).
  std::pair<int64_t, double> cell(int64_t l, uint64_t index) const;
  CountSketchOptions options_;
  std::vector<uint64_t> bucket_coeffs_, sign_coeffs_;  // 4 per row
  torch::Tensor table_;
};

}  // namespace lmlab::streaming_attention
