// NTK-Attention (include/lmlab/ntk_attention/ntk_attention.h): the composed LibTorch reference, the
// autograd wrapper of the fused kernel (lmlab/kernels/ntk_attention.h) and the core module.
//
// The fused path works on one (b, h) slice at a time, padded as the flash kernel wants: head dim
// to Dp (a multiple of 16), keys to Sp (a multiple of 64), q scaled by 1/sqrt(D); phi(q), Z and
// kappa are zero-padded to Dp. The backward chains the kernel's du through phi:
// dq += du * phi'(q), phi'(q) = (q > 0 ? 1 : e^{q / D^(1/4)}) / D^(1/4). Forward work items are (slice, query tile),
// backward items slices; per-slice dZ, dkappa are summed over the batch afterwards, so results do
// not depend on the thread count.
#include "lmlab/ntk_attention/ntk_attention.h"

#include <cmath>
#include <limits>

#include <ATen/Parallel.h>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"
#include "lmlab/kernels/ntk_attention.h"
#include "lmlab/models/flash_attention.h"
#include "models/flash_slices.h"

namespace lmlab::ntk_attention {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace kn = lmlab::kernels;

constexpr double kInf = std::numeric_limits<double>::infinity();


// [B,H,T,S] scores with -inf where a query may not see a key (causal and/or the boolean mask).
torch::Tensor masked_scores(const torch::Tensor& q, const torch::Tensor& k, bool causal,
                            const torch::Tensor& mask) {
  const int64_t t = q.size(2), s = k.size(2);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(3)));
  if (causal) scores = scores.masked_fill(torch::ones({t, s}, q.options().dtype(torch::kBool)).triu(s - t + 1), -kInf);
  if (mask.defined()) scores = scores.masked_fill(mask.logical_not(), -kInf);
  return scores;
}

// The formula of the header (inputs already checked).
torch::Tensor composed_core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& z, const torch::Tensor& kappa, bool causal,
                            const torch::Tensor& mask) {
  const auto u = ntk_feature_map(q);                                            // [B,H,T,D]
  const auto scores = masked_scores(q, k, causal, mask);                        // [B,H,T,S]
  const auto mass = (u * kappa.unsqueeze(1)).sum(-1, /*keepdim=*/true);          // [B,H,T,1], >= 0
  // lse = log(sum_j e^{s_ij} + mass_i), shifted by m_i = max(max_j s_ij, log mass_i) against
  // overflow. The shift is a constant for autograd (lse does not depend on it), so mass enters
  // linearly and d lse / d mass = e^{-lse} holds at mass = 0 too (a log of the mass would block it).
  const auto shift = torch::maximum(std::get<0>(scores.max(-1, /*keepdim=*/true)), mass.log()).detach();
  const auto m = torch::where(torch::isfinite(shift), shift, torch::zeros_like(shift));
  const auto lse = m + (torch::exp(scores - m).sum(-1, /*keepdim=*/true) + mass * torch::exp(-m)).log();
  return torch::matmul(torch::exp(scores - lse), v) + torch::exp(-lse) * torch::matmul(u, z);
}

// FlashSlices plus NTK-Attention's per-head state padded to Dp.
struct Slices : FlashSlices {
  using FlashSlices::FlashSlices;
  torch::Tensor pad_head(const torch::Tensor& x) const {  // [H,D(,D)] -> [H,Dp(,Dp)]
    return x.dim() == 2 ? torch::constant_pad_nd(x, {0, dp - d}).contiguous()
                        : torch::constant_pad_nd(x, {0, dp - d, 0, dp - d}).contiguous();
  }
};

float* ptr(const torch::Tensor& x) { return x.data_ptr<float>(); }

class NtkAttentionFunction : public torch::autograd::Function<NtkAttentionFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& z, const torch::Tensor& kappa,
                               bool causal) {
    const Slices sl(q, k);
    const auto u = ntk_feature_map(q);
    const auto qs = sl.pad(q * sl.scale, sl.t), up = sl.pad(u, sl.t);
    const auto kt = sl.tiles_transposed(sl.pad(k, sl.sp)), vp = sl.pad(v, sl.sp);
    const auto zp = sl.pad_head(z), kp = sl.pad_head(kappa);
    auto o = torch::empty({sl.b * sl.h, sl.t, sl.dp}, q.options());
    auto lse = torch::empty({sl.b * sl.h, sl.t}, q.options());
    const auto& kernel = kn::ntk_attention_kernels().forward;
    sl.for_each_query_tile([&](int64_t bh, int64_t row_begin, int64_t row_end) {
      const int64_t head = bh % sl.h;
      const kn::NtkForwardArgs args{
          {ptr(qs) + bh * sl.t * sl.dp, ptr(kt) + bh * sl.dp * sl.sp, ptr(vp) + bh * sl.sp * sl.dp,
           ptr(o) + bh * sl.t * sl.dp, ptr(lse) + bh * sl.t, sl.t, sl.s, sl.sp, sl.dp, causal},
          ptr(up) + bh * sl.t * sl.dp, ptr(zp) + head * sl.dp * sl.dp, ptr(kp) + head * sl.dp};
      kernel(args, row_begin, row_end);
    });
    ctx->save_for_backward({q, k, v, u, z, kappa, o, lse});
    ctx->saved_data["causal"] = causal;
    return sl.unpad(o, sl.t);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &u = saved[3], &z = saved[4],
               &kappa = saved[5], &o = saved[6], &lse = saved[7];
    const bool causal = ctx->saved_data["causal"].toBool();
    if (torch::GradMode::is_enabled()) return composed_backward(saved, grads[0], causal);
    const Slices sl(q, k);
    const auto qs = sl.pad(q * sl.scale, sl.t), up = sl.pad(u, sl.t);
    const auto kp = sl.pad(k, sl.sp), vp = sl.pad(v, sl.sp);
    const auto kt = sl.tiles_transposed(kp), vt = sl.tiles_transposed(vp);
    const auto zt = sl.pad_head(z.transpose(1, 2)), kap = sl.pad_head(kappa);
    const auto dout = sl.pad(grads[0], sl.t);
    const auto delta = (dout * o).sum(-1).contiguous();
    auto dq = torch::zeros_like(qs), dk = torch::zeros_like(kp), dv = torch::zeros_like(vp);
    auto du = torch::empty_like(up);
    auto dz = torch::zeros({sl.b * sl.h, sl.dp, sl.dp}, q.options());
    auto dkappa = torch::zeros({sl.b * sl.h, sl.dp}, q.options());
    const auto& kernel = kn::ntk_attention_kernels().backward;
    at::parallel_for(0, sl.b * sl.h, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        const int64_t qo = bh * sl.t * sl.dp, ko = bh * sl.sp * sl.dp, head = bh % sl.h;
        kernel({{ptr(qs) + qo, ptr(kp) + ko, ptr(kt) + ko, ptr(vt) + ko, ptr(dout) + qo,
                 ptr(lse) + bh * sl.t, ptr(delta) + bh * sl.t, ptr(dq) + qo, ptr(dk) + ko,
                 ptr(dv) + ko, sl.t, sl.s, sl.sp, sl.dp, causal},
                ptr(up) + qo, ptr(zt) + head * sl.dp * sl.dp, ptr(kap) + head * sl.dp,
                ptr(du) + qo, ptr(dz) + bh * sl.dp * sl.dp, ptr(dkappa) + bh * sl.dp});
      }
    });
    const auto dz_heads = dz.view({sl.b, sl.h, sl.dp, sl.dp}).sum(0).narrow(1, 0, sl.d).narrow(2, 0, sl.d);
    const auto dkappa_heads = dkappa.view({sl.b, sl.h, sl.dp}).sum(0).narrow(1, 0, sl.d);
    const double r = std::pow(static_cast<double>(sl.d), 0.25);
    const auto phi_grad = torch::where(q > 0, torch::ones_like(q), torch::exp(q / r)) / r;
    return {sl.unpad(dq, sl.t) * sl.scale + sl.unpad(du, sl.t) * phi_grad, sl.unpad(dk, sl.s),
            sl.unpad(dv, sl.s), dz_heads, dkappa_heads, torch::Tensor()};
  }

 private:
  // create_graph: the gradients of the composed formula, themselves differentiable.
  static tensor_list composed_backward(const tensor_list& saved, const torch::Tensor& grad, bool causal) {
    const tensor_list in = {saved[0], saved[1], saved[2], saved[4], saved[5]};  // q, k, v, Z, kappa
    const auto out = composed_core(in[0], in[1], in[2], in[3], in[4], causal, {});
    tensor_list wrt, result(in.size() + 1);  // + causal
    std::vector<size_t> index;
    for (size_t i = 0; i < in.size(); ++i)
      if (in[i].requires_grad()) wrt.push_back(in[i]), index.push_back(i);
    const auto g = torch::autograd::grad({out}, wrt, {grad}, /*retain_graph=*/true,
                                         /*create_graph=*/true, /*allow_unused=*/true);
    for (size_t j = 0; j < index.size(); ++j) result[index[j]] = g[j];
    return result;
  }
};

}  // namespace

torch::Tensor ntk_feature_map(const torch::Tensor& x) {
  LMLAB_CHECK(x.defined() && x.dim() >= 1 && x.is_floating_point(), UsageError,
              "ntk_feature_map needs a floating-point tensor [..., D]; got ",
              x.defined() ? detail::concat(x.scalar_type(), " ", x.sizes()) : std::string("none"));
  return torch::elu(x / std::pow(static_cast<double>(x.size(-1)), 0.25)) + 1;
}

std::pair<torch::Tensor, torch::Tensor> ntk_prefix_state(const torch::Tensor& prefix_keys,
                                                         const torch::Tensor& prefix_values) {
  LMLAB_CHECK(prefix_keys.dim() == 3 && prefix_keys.sizes() == prefix_values.sizes(), UsageError,
              "ntk_prefix_state expects prefix keys and values of one shape [H,m,D]; got ",
              prefix_keys.sizes(), " and ", prefix_values.sizes());
  LMLAB_CHECK(prefix_keys.size(1) >= 1, UsageError,
              "ntk_prefix_state: the prefix is empty (m = 0); with no prefix use Z = 0, kappa = 0");
  LMLAB_CHECK(torch::isfinite(prefix_keys).all().item<bool>() && torch::isfinite(prefix_values).all().item<bool>(),
              UsageError, "ntk_prefix_state: the prefix keys or values hold NaN or Inf");
  const auto phi = ntk_feature_map(prefix_keys);  // [H,m,D]
  return {torch::matmul(phi.transpose(1, 2), prefix_values), phi.sum(1)};
}

void check_ntk_inputs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                      const torch::Tensor& z, const torch::Tensor& kappa, bool causal,
                      const torch::Tensor& mask) {
  check_attention_shapes(q, k, v, causal);
  const int64_t h = q.size(1), d = q.size(3), t = q.size(2), s = k.size(2);
  LMLAB_CHECK(s >= 1, UsageError, "NTK-Attention needs at least one input key; got S = 0");
  LMLAB_CHECK(z.dim() == 3 && z.size(0) == h && z.size(1) == d && z.size(2) == d, UsageError,
              "NTK-Attention: Z must be [H,D,D] = [", h, ",", d, ",", d, "] for q ", q.sizes(),
              "; got ", z.sizes(), " (one d x d state per head, matching the head dim)");
  LMLAB_CHECK(kappa.dim() == 2 && kappa.size(0) == h && kappa.size(1) == d, UsageError,
              "NTK-Attention: kappa must be [H,D] = [", h, ",", d, "] for q ", q.sizes(), "; got ",
              kappa.sizes());
  if (mask.defined()) {
    bool broadcasts = mask.dim() >= 2 && mask.dim() <= 4 && mask.size(-2) == t && mask.size(-1) == s;
    const int64_t full[4] = {q.size(0), h, t, s};
    for (int64_t i = 0; broadcasts && i < mask.dim() - 2; ++i) {
      const int64_t want = full[4 - mask.dim() + i];
      broadcasts = mask.size(i) == 1 || mask.size(i) == want;
    }
    LMLAB_CHECK(mask.scalar_type() == torch::kBool && broadcasts, UsageError,
                "NTK-Attention: the mask must be boolean (true = visible) of shape [T,S] = [", t, ",", s,
                "] or broadcastable to [B,H,T,S] = [", q.size(0), ",", h, ",", t, ",", s, "]; got ",
                mask.scalar_type(), " ", mask.sizes());
  }
  for (const auto& [name, x] : {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v},
                                std::pair{"Z", z}, std::pair{"kappa", kappa}})
    LMLAB_CHECK(x.scalar_type() == q.scalar_type() && x.is_floating_point(), UsageError, "NTK-Attention needs q, k, v, "
                "Z and kappa in one floating-point dtype; got q ", q.scalar_type(), " and ", name, " ", x.scalar_type(),
                " (convert them, e.g. with .to(torch.float32))");
  for (const auto& [name, x] : {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v},
                                std::pair{"Z", z}, std::pair{"kappa", kappa}})
    LMLAB_CHECK(torch::isfinite(x).all().item<bool>(), UsageError, "NTK-Attention: ", name,
                " holds NaN or Inf entries; the output would be NaN. Check the model's inputs and "
                "learning rate");
  LMLAB_CHECK((kappa >= 0).all().item<bool>(), UsageError,
              "NTK-Attention: kappa must be >= 0 (it is a sum of positive features); pass softplus(k) "
              "or |k|. Smallest entry: ", kappa.min().item<double>());
}

torch::Tensor composed_ntk_attention(const torch::Tensor& q, const torch::Tensor& k,
                                     const torch::Tensor& v, const torch::Tensor& z,
                                     const torch::Tensor& kappa, bool causal, const torch::Tensor& mask) {
  check_ntk_inputs(q, k, v, z, kappa, causal, mask);
  return composed_core(q, k, v, z, kappa, causal, mask);
}

torch::Tensor fused_ntk_attention(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& z,
                                  const torch::Tensor& kappa, bool causal) {
  for (const auto& [name, x] : {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v},
                                std::pair{"Z", z}, std::pair{"kappa", kappa}})
    LMLAB_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat, UsageError,
                "fused_ntk_attention takes float32 CPU tensors; ", name, " is ", x.scalar_type(),
                " on ", x.device(), ". Use ntk_attention(), which falls back to composed_ntk_attention()");
  check_ntk_inputs(q, k, v, z, kappa, causal);
  return NtkAttentionFunction::apply(q, k, v, z, kappa, causal);
}

torch::Tensor ntk_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& z, const torch::Tensor& kappa, bool causal,
                            const torch::Tensor& mask) {
  bool fused = !mask.defined();
  for (const auto* x : {&q, &k, &v, &z, &kappa})
    fused = fused && x->device().is_cpu() && x->scalar_type() == torch::kFloat;
  return fused ? fused_ntk_attention(q, k, v, z, kappa, causal)
               : composed_ntk_attention(q, k, v, z, kappa, causal, mask);
}

NtkAttention::NtkAttention(int64_t heads, int64_t head_dim, const NtkAttentionOptions& options) {
  LMLAB_CHECK(heads >= 1 && head_dim >= 1, UsageError, "NtkAttention needs heads >= 1 and head_dim >= 1; got ",
              heads, " and ", head_dim);
  LMLAB_CHECK(options.kappa_init() > 0 && std::isfinite(options.kappa_init()), UsageError,
              "NtkAttentionOptions::kappa_init must be finite and > 0 (softplus(k) is positive); got ",
              options.kappa_init());
  LMLAB_CHECK(options.z_init_std() >= 0, UsageError, "NtkAttentionOptions::z_init_std must be >= 0; got ",
              options.z_init_std());
  check_model_memory("NtkAttention", double(heads) * double(head_dim) * (double(head_dim) + 1.0),
                     "lower the number of heads or the head dim");
  z_ = register_parameter("Z", torch::randn({heads, head_dim, head_dim}) * options.z_init_std());
  // softplus(k) = kappa_init  <=>  k = log(e^kappa_init - 1)
  k_ = register_parameter("k", torch::full({heads, head_dim}, std::log(std::expm1(options.kappa_init()))));
}

torch::Tensor NtkAttention::kappa() const { return torch::softplus(k_); }

torch::Tensor NtkAttention::forward(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, bool causal) {
  return ntk_attention(q, k, v, z_, kappa(), causal);
}

AttentionFactory ntk_attention_factory(const NtkAttentionOptions& options) {
  return [options](int64_t, int64_t heads, int64_t head_dim) {
    return std::make_shared<NtkAttention>(heads, head_dim, options);
  };
}

}  // namespace lmlab::ntk_attention
