// Sparse attention with autograd: the public entry sparse_attention(), its backward, the composed
// reference gathered_attention() and SparseAttentionCore (include/lmlab/sparse_attention/sparse_attention.h; P3,
// arXiv 2404.02690).
//
// The kept sets H_i are fixed by the forward (piecewise constant in q, k), so the gradient is that
// of attention restricted to H_i. With p_ij = softmax over H_i of s_ij = scale <q_i, k_j>,
// out_i = sum_j p_ij v_j and g = dL/dout [B,H,T,Dv]:
//   dv_j += p_ij g_i,   dp_ij = <g_i, v_j>,   ds_ij = p_ij (dp_ij - <g_i, out_i>),
//   dq_i = scale sum_j ds_ij k_j,   dk_j += scale ds_ij q_i                       (j in H_i).
// Saved for backward: q, k, v, indices [B,H,T,K] and out. The backward walks each row's kept keys
// in place (no gathered copies), (b, h) slices in parallel, the weights p in double as the forward:
// O(T K (D + Dv)) work and O(K) scratch per thread.
// When the backward runs with grad mode on (create_graph), it instead differentiates
// gathered_attention() with autograd, so gradients of every order are exact.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>

#include "sparse_attention/sparse_internal.h"
#include "lmlab/core/error.h"

namespace lmlab::sparse_attention {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x [B,H,S,D] at indices [B,H,T,K] (-1 read as 0) -> [B,H,T,K,D].
torch::Tensor gather_keys(const torch::Tensor& x, const torch::Tensor& safe_indices) {
  const int64_t t = safe_indices.size(2), kk = safe_indices.size(3), d = x.size(3);
  const auto flat = safe_indices.reshape({x.size(0), x.size(1), t * kk, 1}).expand({-1, -1, -1, d});
  return x.gather(2, flat).view({x.size(0), x.size(1), t, kk, d});
}

template <typename T>
T dot(const T* a, const T* b, int64_t n) {
  T acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// y += a x over n entries.
template <typename T>
void axpy(T a, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// The first-order backward of one (b, h) slice (equations above); all tensors contiguous, the
// slice's rows at the given pointers: q, dq [T,D], k, dk [S,D], v, dv [S,Dv], g, out [T,Dv],
// indices [T,K].
template <typename T>
void sparse_backward_slice(const T* q, const T* k, const T* v, const T* g, const T* out, const int64_t* indices,
                           T* dq, T* dk, T* dv, int64_t t, int64_t kk, int64_t d, int64_t dv_dim, double scale) {
  thread_local std::vector<double> p;
  p.resize(kk);
  for (int64_t i = 0; i < t; ++i) {
    const int64_t* idx = indices + i * kk;
    const T *qi = q + i * d, *gi = g + i * dv_dim;
    int64_t kept = 0;  // kept keys come first, unused slots (-1) last
    while (kept < kk && idx[kept] >= 0) ++kept;
    double m = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t a = 0; a < kept; ++a) m = std::max(m, p[a] = scale * dot(qi, k + idx[a] * d, d));
    for (int64_t a = 0; a < kept; ++a) sum += p[a] = std::exp(p[a] - m);
    const double delta = dot(gi, out + i * dv_dim, dv_dim);
    for (int64_t a = 0; a < kept; ++a) {
      const int64_t j = idx[a];
      const double pa = p[a] / sum, ds = pa * (dot(gi, v + j * dv_dim, dv_dim) - delta) * scale;
      axpy(static_cast<T>(ds), k + j * d, dq + i * d, d);
      axpy(static_cast<T>(ds), qi, dk + j * d, d);
      axpy(static_cast<T>(pa), gi, dv + j * dv_dim, dv_dim);
    }
  }
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
    const torch::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous(), gc = g.contiguous(),
                        oc = out.contiguous(), ic = indices.contiguous();
    torch::Tensor dq = torch::zeros_like(qc), dk = torch::zeros_like(kc), dv = torch::zeros_like(vc);
    const int64_t slices = q.size(0) * q.size(1), t = q.size(2), s = k.size(2), d = q.size(3), e = v.size(3);
    const int64_t kk = indices.size(3);
    AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "sparse_attention_backward", [&] {
      const scalar_t *qp = qc.data_ptr<scalar_t>(), *kp = kc.data_ptr<scalar_t>(), *vp = vc.data_ptr<scalar_t>();
      const scalar_t *gp = gc.data_ptr<scalar_t>(), *op = oc.data_ptr<scalar_t>();
      scalar_t *dqp = dq.data_ptr<scalar_t>(), *dkp = dk.data_ptr<scalar_t>(), *dvp = dv.data_ptr<scalar_t>();
      const int64_t* ip = ic.data_ptr<int64_t>();
      at::parallel_for(0, slices, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b)
          sparse_backward_slice(qp + b * t * d, kp + b * s * d, vp + b * s * e, gp + b * t * e, op + b * t * e,
                                ip + b * t * kk, dqp + b * t * d, dkp + b * s * d, dvp + b * s * e, t, kk, d, e,
                                scale);
      });
    });
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gathered_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& indices, double scale) {
  check_sparse_attention(q, k, v, SparseAttentionOptions().k(1).scale(scale));  // shapes, dtypes, values
  LMLAB_CHECK(indices.defined() && indices.dim() == 4 && indices.scalar_type() == torch::kLong &&
                  indices.sizes().slice(0, 3) == q.sizes().slice(0, 3),
              UsageError, "gathered_attention: indices must be int64 [B,H,T,K] with q's B, H, T; got ",
              indices.sizes(), " for q ", q.sizes());
  LMLAB_CHECK(indices.numel() == 0 || (indices.min().item<int64_t>() >= -1 && indices.max().item<int64_t>() < k.size(2)),
              UsageError, "gathered_attention: indices must be key positions in [0, S) = [0, ", k.size(2),
              ") or -1 (unused); got values in [", indices.min().item<int64_t>(), ", ", indices.max().item<int64_t>(), "]");
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

}  // namespace lmlab::sparse_attention
