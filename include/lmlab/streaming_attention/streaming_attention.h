// One-pass streaming attention in sublinear space (P5, arXiv 2311.14652, Addanki, Li, Song, Yang;
// NOTES.md P5, our reading where the paper body is missing).
//
// Tokens q_i, k_i, v_i in R^d with entries |q_i,c|, |k_i,c| <= B arrive once. With the polynomial
// method of lmlab/streaming_attention/polynomial_features.h (scores s = c <q, k>, |s| <= R = c d B^2, P ~ exp within
// relative error delta on [-R, R], features phi1, phi2 of dimension t = C(d+g, g)) the state is
//
//   S = sum_j phi2(k_j) v_j^T  [t, d],    z = sum_j phi2(k_j)  [t]          (float64)
//   T~(q) = phi1(q)^T S / phi1(q)^T z  [d]                                 (eq. T~ = D~^-1 U1 U2^T V)
//
// O(t d) numbers independent of the number of tokens n; K and V are never stored. Two modes:
//   * push(k, v) over all keys, then query(q): bidirectional attention over every key pushed so far;
//   * causal(q, k, v): token by token, push (k_i, v_i) then answer q_i against keys 1..i: one pass.
// Both process tokens in chunks [c, t] of features and update S += Phi2^T [V | 1] with one GEMM; the
// causal chunk adds the in-chunk lower triangle (Phi1 Phi2^T masked) V. The state is stored
// transposed, [S | z]^T [d + 1, t], so the update [V | 1]^T Phi2 reads the features row by row. The results equal the batch
// formula (phi1(Q) phi2(K)^T V) / (phi1(Q) phi2(K)^T 1) up to summation order.
//
// Error (our derivation): with P(s_j) = e^{s_j} (1 + eps_j), |eps_j| <= delta, and o the exact
// softmax output, T~ - o = sum_j w_j eps_j (v_j - o) / sum_j w_j (1 + eps_j), so
//   ||T~(q) - o(q)||_inf <= delta / (1 - delta) max_j ||v_j - o||_inf <= 2 delta / (1 - delta) max_j ||v_j||_inf.
//
// Output sketch (optional, lmlab/streaming_attention/count_sketch.h): every answered row T~_i (query number i,
// counted from 0 over query() and causal() calls) goes into a CountSketch Y [r, b, d]; decode(k)
// returns the k-sparse per-column approximation of the n x d output. S, z and Y are the three
// stored matrices of the paper.
//
// Refusals (UsageError with the value and the fix): d mismatch, NaN/Inf tokens, q or k entries
// above B (the polynomial's error bound would not hold), an error the degree budget cannot meet,
// a state above max_state_bytes (the message states the memory it would need), queries before any
// key, and decode(k) with k above the number of answered queries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "lmlab/streaming_attention/count_sketch.h"
#include "lmlab/streaming_attention/polynomial_features.h"

namespace lmlab::streaming_attention {

struct StreamingAttentionOptions {
  explicit StreamingAttentionOptions(int64_t dim) : dim_(dim) {}
  TORCH_ARG(int64_t, dim);                           // d
  TORCH_ARG(double, entry_bound) = 1.0;              // B: every entry of q and k lies in [-B, B]
  TORCH_ARG(double, scale) = 0.0;                    // c in s = c <q,k>; 0: 1/d (Alman-Song)
  TORCH_ARG(ExpPolynomialOptions, polynomial) = {};  // degree (0: automatic) and max_rel_error
  TORCH_ARG(int64_t, max_state_bytes) = int64_t{1} << 30;  // refuse larger states (S, z and Y)
  TORCH_ARG(int64_t, chunk) = 0;                     // tokens per feature chunk; 0: Phi chunk <= 8 MiB
  TORCH_ARG(std::optional<CountSketchOptions>, output_sketch) = std::nullopt;  // columns must equal d
};

class StreamingAttention {
 public:
  explicit StreamingAttention(const StreamingAttentionOptions& options);

  // k, v [m, d] (or [d]): adds m keys and values to S and z.
  void push(const torch::Tensor& k, const torch::Tensor& v);
  // q [m, d] (or [d]) -> T~ [m, d] (q's dtype; computed in float64) against every key pushed so far;
  // adds the rows to the output sketch when there is one.
  torch::Tensor query(const torch::Tensor& q);
  // q, k, v [m, d]: for each i in order, push(k_i, v_i) then query(q_i); returns [m, d].
  torch::Tensor causal(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);
  // The k-sparse per-column decoding of the sketched outputs (rows 0 .. queries() - 1).
  SparseColumns decode(int64_t k) const;

  int64_t tokens() const { return tokens_; }    // keys pushed
  int64_t queries() const { return queries_; }  // rows answered (and sketched)
  const PolynomialFeatures& features() const { return features_; }
  double score_radius() const { return features_.polynomial().radius(); }  // R
  // 2 delta / (1 - delta) * max |v| seen: the bound on ||T~(q) - o(q)||_inf (see above).
  double output_error_bound() const;
  double max_abs_value() const { return max_abs_value_; }
  const torch::Tensor& state() const { return state_; }  // [d + 1, t] = [S | z]^T
  const CountSketch* output_sketch() const { return sketch_.get(); }
  // Bytes held by the state: S and z, phi1's weights, and the output sketch (Y and its hashes).
  int64_t state_bytes() const;

 private:
  // Validates tokens [m, d] (or [d]) and returns them as float64 [m, d]; `bounded`: entries within B.
  torch::Tensor checked(const torch::Tensor& x, const char* what, bool bounded) const;
  // Rows [phi1^T S | phi1^T z] [m, d + 1] -> T~ [m, d]; sketches them and counts the queries.
  torch::Tensor answer(const torch::Tensor& sums);
  StreamingAttentionOptions options_;
  PolynomialFeatures features_;
  int64_t chunk_;
  torch::Tensor state_;  // [d + 1, t] float64: S^T, then z^T as the last row (GEMMs stream Phi [c, t] row-major)
  std::unique_ptr<CountSketch> sketch_;
  int64_t tokens_ = 0, queries_ = 0;
  double max_abs_value_ = 0;
};

}  // namespace lmlab::streaming_attention
