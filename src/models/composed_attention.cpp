// Exact attention composed from LibTorch ops, and its closed-form backward
// (include/lmlab/models/flash_attention.h).
#include <cmath>
#include <limits>

#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"

namespace lmlab {

void check_attention_shapes(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            bool causal) {
  LMLAB_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, UsageError,
              "attention expects q, k, v of shape [B,H,T,D]; got q ", q.sizes(), ", k ", k.sizes(),
              ", v ", v.sizes());
  LMLAB_CHECK(k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(1) == k.size(1) &&
                  q.size(3) == k.size(3),
              UsageError, "attention shapes disagree: q ", q.sizes(), ", k ", k.sizes(), ", v ",
              v.sizes(), "; k and v must be [B,H,S,D] with q's B, H and D");
  LMLAB_CHECK(q.numel() > 0, UsageError, "attention needs queries with B, H, T and D >= 1; got q ", q.sizes());
  LMLAB_CHECK(!causal || q.size(2) <= k.size(2), UsageError,
              "causal attention needs at least as many keys as queries; got ", q.size(2),
              " queries and ", k.size(2), " keys");
}

torch::Tensor attention_probabilities(const torch::Tensor& q, const torch::Tensor& k, bool causal) {
  const int64_t t = q.size(2), s = k.size(2);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(3)));
  if (causal) {
    LMLAB_CHECK(t <= s, UsageError, "causal attention needs at least as many keys as queries; got ",
                t, " queries and ", s, " keys");
    // Query i (of the last t positions) sees keys 0 .. s-t+i.
    auto future = torch::ones({t, s}, q.options().dtype(torch::kBool)).triu(s - t + 1);
    scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  }
  return torch::softmax(scores, -1);
}

torch::Tensor composed_attention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, bool causal) {
  check_attention_shapes(q, k, v, causal);
  LMLAB_CHECK(q.is_floating_point() && k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type() &&
                  k.device() == q.device() && v.device() == q.device(),
              UsageError, "attention needs q, k, v of one floating-point dtype on one device; got ", q.dtype(), ", ",
              k.dtype(), ", ", v.dtype(), " on ", q.device(), ", ", k.device(), ", ", v.device());
  return torch::matmul(attention_probabilities(q, k, causal), v);
}

std::vector<torch::Tensor> composed_attention_backward(const torch::Tensor& q,
                                                       const torch::Tensor& k,
                                                       const torch::Tensor& v,
                                                       const torch::Tensor& grad, bool causal) {
  check_attention_shapes(q, k, v, causal);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  const auto p = attention_probabilities(q, k, causal);                      // [B,H,T,S]
  const auto out = torch::matmul(p, v);                                      // [B,H,T,D]
  const auto delta = (grad * out).sum(-1, /*keepdim=*/true);                 // [B,H,T,1]
  const auto ds = p * (torch::matmul(grad, v.transpose(-2, -1)) - delta);    // [B,H,T,S]
  return {torch::matmul(ds, k) * scale, torch::matmul(ds.transpose(-2, -1), q) * scale,
          torch::matmul(p.transpose(-2, -1), grad)};
}

torch::Tensor exact_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, bool causal) {
  const bool fused = q.device().is_cpu() && k.device().is_cpu() && v.device().is_cpu() &&
                     q.scalar_type() == torch::kFloat && k.scalar_type() == torch::kFloat &&
                     v.scalar_type() == torch::kFloat;
  return fused ? flash_attention(q, k, v, causal) : composed_attention(q, k, v, causal);
}

}  // namespace lmlab
