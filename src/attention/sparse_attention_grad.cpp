// Sparse attention with autograd: the public entry sparse_attention(), its backward, the composed
// reference gathered_attention() and SparseAttentionCore (include/lmlab/attention/sparse.h; P3,
// arXiv 2404.02690).
//
// The kept sets H_i are fixed by the forward (piecewise constant in q, k), so the gradient is that
// of attention restricted to H_i. With p_ij = softmax over H_i of s_ij = scale <q_i, k_j>,
// out_i = sum_j p_ij v_j and g = dL/dout [B,H,T,Dv]:
//   dv_j += p_ij g_i,   dp_ij = <g_i, v_j>,   ds_ij = p_ij (dp_ij - <g_i, out_i>),
//   dq_i = scale sum_j ds_ij k_j,   dk_j += scale ds_ij q_i                       (j in H_i).
// Saved for backward: q, k, v, indices [B,H,T,K] and out. The backward gathers the kept keys and
// values of a chunk of rows ([rows, K, D], chunks bounded to ~4M entries) and scatters dk, dv back.
// When the backward runs with grad mode on (create_graph), it instead differentiates
// gathered_attention() with autograd, so gradients of every order are exact.
#include <limits>
#include <vector>

#include "attention/sparse_internal.h"
#include "lmlab/core/error.h"

namespace lmlab::attention {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x [B,H,S,D] at indices [B,H,T,K] (-1 read as 0) -> [B,H,T,K,D].
torch::Tensor gather_keys(const torch::Tensor& x, const torch::Tensor& safe_indices) {
  const int64_t t = safe_indices.size(2), kk = safe_indices.size(3), d = x.size(3);
  const auto flat = safe_indices.reshape({x.size(0), x.size(1), t * kk, 1}).expand({-1, -1, -1, d});
  return x.gather(2, flat).view({x.size(0), x.size(1), t, kk, d});
}

// Adds rows [B,H,T,K,D] into acc [B,H,S,D] at safe_indices [B,H,T,K].
void scatter_keys(torch::Tensor& acc, const torch::Tensor& safe_indices, const torch::Tensor& rows) {
  const int64_t n = safe_indices.size(2) * safe_indices.size(3), d = rows.size(4);
  acc.scatter_add_(2, safe_indices.reshape({acc.size(0), acc.size(1), n, 1}).expand({-1, -1, -1, d}),
                   rows.reshape({acc.size(0), acc.size(1), n, d}));
}

// p over the kept set: scores of q [B,H,T,D] against gathered keys [B,H,T,K,D], pads masked.
torch::Tensor kept_probabilities(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& valid,
                                 double scale) {
  const torch::Tensor s = torch::matmul(keys, q.unsqueeze(-1)).squeeze(-1) * scale;
  return torch::softmax(s.masked_fill(valid.logical_not(), -std::numeric_limits<double>::infinity()), -1);
}

struct SparseAttentionFunction : torch::autograd::Function<SparseAttentionFunction> {
  // `out` is the kernel's forward (computed without autograd); it is returned as this node's output.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& indices, const torch::Tensor& out,
                               double scale) {
    const torch::Tensor y = out.clone();
    ctx->save_for_backward({q, k, v, indices, y});
    ctx->saved_data["scale"] = scale;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &indices = saved[3], &out = saved[4];
    const double scale = ctx->saved_data["scale"].toDouble();
    const torch::Tensor g = grad[0];
    if (torch::GradMode::is_enabled()) {  // create_graph: the composed, differentiable formulation
      std::vector<torch::Tensor> wrt;
      for (const torch::Tensor& x : {q, k, v})
        if (x.requires_grad()) wrt.push_back(x);
      variable_list result(6);
      if (wrt.empty()) return result;
      const variable_list d = torch::autograd::grad({gathered_attention(q, k, v, indices, scale)}, wrt, {g},
                                                    /*retain_graph=*/true, /*create_graph=*/true, /*allow_unused=*/true);
      for (int i = 0, next = 0; i < 3; ++i)
        if (saved[i].requires_grad()) result[i] = d[next++];
      return result;
    }
    torch::Tensor dq = torch::zeros_like(q), dk = torch::zeros_like(k), dv = torch::zeros_like(v);
    const int64_t t = q.size(2), kk = std::max<int64_t>(1, indices.size(3));
    const int64_t chunk = std::max<int64_t>(1, (int64_t{4} << 20) / (q.size(0) * q.size(1) * kk * std::max(q.size(3), v.size(3))));
    for (int64_t r0 = 0; r0 < t; r0 += chunk) {
      const int64_t n = std::min(chunk, t - r0);
      const torch::Tensor idx = indices.narrow(2, r0, n), valid = idx >= 0, safe = idx.clamp_min(0);
      const torch::Tensor qc = q.narrow(2, r0, n), gc = g.narrow(2, r0, n);
      const torch::Tensor keys = gather_keys(k, safe), values = gather_keys(v, safe);
      const torch::Tensor p = kept_probabilities(qc, keys, valid, scale);                // [B,H,n,K]
      const torch::Tensor dp = torch::matmul(values, gc.unsqueeze(-1)).squeeze(-1);     // [B,H,n,K]
      const torch::Tensor ds = p * (dp - (gc * out.narrow(2, r0, n)).sum(-1, true)) * scale;
      dq.narrow(2, r0, n).copy_(torch::matmul(ds.unsqueeze(-2), keys).squeeze(-2));
      scatter_keys(dk, safe, ds.unsqueeze(-1) * qc.unsqueeze(3));
      scatter_keys(dv, safe, p.unsqueeze(-1) * gc.unsqueeze(3));
    }
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gathered_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& indices, double scale) {
  LMLAB_CHECK(indices.dim() == 4 && indices.scalar_type() == torch::kLong &&
                  indices.sizes().slice(0, 3) == q.sizes().slice(0, 3),
              UsageError, "gathered_attention: indices must be int64 [B,H,T,K] with q's B, H, T; got ",
              indices.sizes(), " for q ", q.sizes());
  const torch::Tensor valid = indices >= 0, safe = indices.clamp_min(0);
  const torch::Tensor p = kept_probabilities(q, gather_keys(k, safe), valid, scale);
  return torch::matmul(p.unsqueeze(-2), gather_keys(v, safe)).squeeze(-2);
}

SparseAttentionResult sparse_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                       const SparseAttentionOptions& options) {
  check_sparse_attention(q, k, v, options);
  SparseAttentionResult r = detail::sparse_attention_forward(q, k, v, options);
  if (torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad()))
    r.out = SparseAttentionFunction::apply(q, k, v, r.indices, r.out, detail::resolved_scale(options, q.size(3)));
  return r;
}

SparseAttentionCore::SparseAttentionCore(SparseAttentionOptions options) : options_(std::move(options)) {}

torch::Tensor SparseAttentionCore::forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                           bool causal) {
  return sparse_attention(q, k, v, SparseAttentionOptions(options_).causal(causal)).out;
}

}  // namespace lmlab::attention
