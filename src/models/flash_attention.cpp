// flash_attention (include/lmlab/models/flash_attention.h): LibTorch tensors in and out of the
// tiled kernels of lmlab/kernels/flash_attention.h, with a custom autograd backward.
//
// Shapes: q [B,H,T,D], k and v [B,H,S,D]. The kernels take one (b, h) slice at a time, padded:
// the head dim to Dp (a multiple of 16) and the keys to Sp (a multiple of 64) with zeros, q
// multiplied by 1/sqrt(D) first. The forward splits (slice, query tile of kFlashQueryTile rows) work items across
// threads; the backward splits slices. Every row's arithmetic is the same however the work is
// split, so results do not depend on the thread count.
#include <cmath>
#include <string>

#include <ATen/Parallel.h>

#include "lmlab/core/error.h"
#include "lmlab/kernels/flash_attention.h"
#include "lmlab/models/flash_attention.h"
#include "models/flash_slices.h"

namespace lmlab {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;
namespace kn = lmlab::kernels;

void check_flash_inputs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) {
  check_attention_shapes(q, k, v, causal);
  for (const auto& [name, x] : {std::pair{"q", q}, std::pair{"k", k}, std::pair{"v", v}}) {
    LMLAB_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat, UsageError,
                "flash_attention takes float32 CPU tensors; ", name, " is ", x.scalar_type(), " on ",
                x.device(), ". Use exact_attention(), which falls back to composed_attention()");
  }
  LMLAB_CHECK(k.size(2) >= 1, UsageError, "attention needs at least one key; got S = 0");
}

// UsageError when an input holds NaN or Inf, checked on the forward's contiguous padded copy `x`
// of it (scaled by 1/sqrt(D) or transposed; zero padding is finite), so the check reads no more
// than the copy already made.
void check_finite(const torch::Tensor& x, const char* name) {
  LMLAB_CHECK(kn::flash_attention_kernels().all_finite(x.data_ptr<float>(), x.numel()), UsageError,
              "flash_attention: ", name, " holds NaN or Inf entries; attention of non-finite inputs is undefined");
}

class FlashAttentionFunction : public torch::autograd::Function<FlashAttentionFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q,
                               const torch::Tensor& k, const torch::Tensor& v, bool causal) {
    const FlashSlices pd(q, k);
    const auto qs = pd.pad(q * pd.scale, pd.t);
    const auto kt = pd.tiles_transposed(pd.pad(k, pd.sp));
    const auto vp = pd.pad(v, pd.sp);
    check_finite(qs, "q");
    check_finite(kt, "k");
    check_finite(vp, "v");
    auto o = torch::empty({pd.b * pd.h, pd.t, pd.dp}, q.options());
    auto lse = torch::empty({pd.b * pd.h, pd.t}, q.options());
    const auto& kernel = kn::flash_attention_kernels().flash_forward;
    pd.for_each_query_tile([&](int64_t bh, int64_t row_begin, int64_t row_end) {
      const kn::FlashForwardArgs args{qs.data_ptr<float>() + bh * pd.t * pd.dp,
                                      kt.data_ptr<float>() + bh * pd.dp * pd.sp,
                                      vp.data_ptr<float>() + bh * pd.sp * pd.dp,
                                      o.data_ptr<float>() + bh * pd.t * pd.dp,
                                      lse.data_ptr<float>() + bh * pd.t,
                                      pd.t, pd.s, pd.sp, pd.dp, causal};
      kernel(args, row_begin, row_end);
    });
    ctx->save_for_backward({q, k, v, o, lse});
    ctx->saved_data["causal"] = causal;
    return pd.unpad(o, pd.t);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &o = saved[3], &lse = saved[4];
    const bool causal = ctx->saved_data["causal"].toBool();
    if (torch::GradMode::is_enabled()) {  // create_graph: differentiable LibTorch formulas
      auto g = composed_attention_backward(q, k, v, grads[0], causal);
      return {g[0], g[1], g[2], torch::Tensor()};
    }
    const FlashSlices pd(q, k);
    const auto qs = pd.pad(q * pd.scale, pd.t);
    const auto kp = pd.pad(k, pd.sp), vp = pd.pad(v, pd.sp);
    const auto kt = pd.tiles_transposed(kp), vt = pd.tiles_transposed(vp);
    const auto dout = pd.pad(grads[0], pd.t);
    const auto delta = (dout * o).sum(-1).contiguous();
    auto dq = torch::zeros_like(qs), dk = torch::zeros_like(kp), dv = torch::zeros_like(vp);
    const auto& kernel = kn::flash_attention_kernels().flash_backward;
    at::parallel_for(0, pd.b * pd.h, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        const int64_t qo = bh * pd.t * pd.dp, ko = bh * pd.sp * pd.dp;
        kernel({qs.data_ptr<float>() + qo, kp.data_ptr<float>() + ko, kt.data_ptr<float>() + ko,
                vt.data_ptr<float>() + ko, dout.data_ptr<float>() + qo,
                lse.data_ptr<float>() + bh * pd.t, delta.data_ptr<float>() + bh * pd.t,
                dq.data_ptr<float>() + qo, dk.data_ptr<float>() + ko, dv.data_ptr<float>() + ko,
                pd.t, pd.s, pd.sp, pd.dp, causal});
      }
    });
    return {pd.unpad(dq, pd.t) * pd.scale, pd.unpad(dk, pd.s), pd.unpad(dv, pd.s), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor flash_attention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, bool causal) {
  check_flash_inputs(q, k, v, causal);
  return FlashAttentionFunction::apply(q, k, v, causal);
}

}  // namespace lmlab
