// The mass-based sparsity measure k_eps of softmax attention and its Gaussian law (P3, arXiv
// 2404.02690, Deng, Song, Yang: "Attention is naturally sparse with Gaussian inputs"); sparse
// attention itself: sparse_attention.h.
#pragma once

#include <torch/torch.h>

namespace lmlab::sparse_attention {

// k_eps per row: the fewest entries of the row's softmax that hold at least 1 - eps of its mass.
// From scores [..., S] (-inf marks masked entries; each row needs a finite one) or from a
// probability map [..., S] (non-negative; the mass is taken relative to the row's sum, so a map
// that sums to 1 up to rounding is read as it is meant). Returns [...] int64. Computed in double.
torch::Tensor k_eps_from_scores(const torch::Tensor& scores, double eps);
torch::Tensor k_eps_from_probabilities(const torch::Tensor& probabilities, double eps);

// The closed-form law ([ours], NOTES.md P3) for n i.i.d. scores N(0, tau^2):
//   k_eps ~ n * Qn(tau - z_{1-eps}),  Qn the standard normal tail, z_{1-eps} its (1-eps) quantile.
double k_eps_gaussian_law(double n, double tau, double eps);
// The standard normal quantile z_p (0 < p < 1) and tail Qn(x) = P(Z > x).
double normal_quantile(double p);
double normal_tail(double x);

}  // namespace lmlab::sparse_attention
