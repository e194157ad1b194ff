// Private to src/sparse_attention/: the sparse attention kernel without autograd and its per-row selection
// steps (lmlab/sparse_attention/sparse_attention.h). A row is its m visible scores s[0..m); a selection writes the
// kept positions into `order`, largest score first, and returns how many it kept. Ties are broken
// by the smaller position, so a selection is deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "lmlab/sparse_attention/sparse_attention.h"

namespace lmlab::sparse_attention::detail {

// Position a before b: larger score first, then smaller position.
template <typename T>
struct ScoreOrder {
  const T* s;
  bool operator()(int64_t a, int64_t b) const { return s[a] > s[b] || (s[a] == s[b] && a < b); }
};

// TopK: the min(k, m) largest scores (sparse_attention.cpp). `order` is resized to min(k, m).
template <typename T>
int64_t select_top_k_row(const T* s, int64_t m, int64_t k, std::vector<int64_t>& order);

// Mass: the fewest largest scores whose softmax mass reaches (1 - eps) of the row's, accumulated in
// double (mass_sparsity.cpp). `order` is resized to m. Also returns the row's max and its
// normaliser sum_j exp(s_j - max) through `max` and `normaliser`.
template <typename T>
int64_t select_mass_row(const T* s, int64_t m, double eps, std::vector<int64_t>& order, double& max,
                        double& normaliser);

// The forward of sparse_attention without autograd (sparse_attention.cpp); inputs checked.
SparseAttentionResult sparse_attention_forward(const torch::Tensor& q, const torch::Tensor& k,
                                               const torch::Tensor& v, const SparseAttentionOptions& options);

// options.scale(), or 1/sqrt(D) when it is 0.
double resolved_scale(const SparseAttentionOptions& options, int64_t head_dim);

}  // namespace lmlab::sparse_attention::detail
