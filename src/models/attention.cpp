// Softmax attention core and multi-head attention (include/lmlab/models/attention.h).
#include "lmlab/models/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"

namespace lmlab {

torch::Tensor SoftmaxAttention::probabilities(const torch::Tensor& q, const torch::Tensor& k,
                                              bool causal) {
  return attention_probabilities(q, k, causal);
}

torch::Tensor SoftmaxAttention::forward(const torch::Tensor& q, const torch::Tensor& k,
                                        const torch::Tensor& v, bool causal) {
  if (!record_) return exact_attention(q, k, v, causal);
  check_attention_shapes(q, k, v, causal);
  auto p = probabilities(q, k, causal);
  last_ = p.detach();
  return torch::matmul(p, v);
}

AttentionFactory default_attention_factory() {
  return [](int64_t, int64_t, int64_t) { return std::make_shared<SoftmaxAttention>(); };
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options)
    : options_(options) {
  const int64_t c = options.width(), h = options.heads();
  LMLAB_CHECK(h >= 1, UsageError, "attention heads must be >= 1; got ", h);
  LMLAB_CHECK(c >= 1 && c % h == 0, UsageError, "attention width ", c,
              " is not a positive multiple of heads ", h, "; choose width = heads * head_dim (e.g. ",
              h * std::max<int64_t>(1, (c + h - 1) / h), ")");
  q_ = make_linear(options.linear(), c, c, options.bias(), LinearRole::AttnQ);
  k_ = make_linear(options.linear(), c, c, options.bias(), LinearRole::AttnK);
  v_ = make_linear(options.linear(), c, c, options.bias(), LinearRole::AttnV);
  o_ = make_linear(options.linear(), c, c, options.bias(), LinearRole::AttnO);
  register_module("q", q_.ptr());
  register_module("k", k_.ptr());
  register_module("v", v_.ptr());
  register_module("o", o_.ptr());
  core_ = options.core() ? options.core() : std::make_shared<SoftmaxAttention>();
  register_module("core", core_);
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x, bool causal) {
  const int64_t c = options_.width(), h = options_.heads();
  LMLAB_CHECK(x.dim() == 3 && x.size(2) == c, UsageError, "attention expects x of shape [B,T,", c,
              "]; got ", x.sizes());
  const int64_t b = x.size(0), t = x.size(1);
  auto split = [&](torch::nn::AnyModule& proj) {  // [B,T,C] -> [B,H,T,D]
    return proj.forward(x).reshape({b, t, h, c / h}).transpose(1, 2);
  };
  auto y = core_->forward(split(q_), split(k_), split(v_), causal);
  LMLAB_CHECK(y.dim() == 4 && y.size(0) == b && y.size(1) == h && y.size(2) == t &&
                  y.size(3) == c / h,
              UsageError, "the attention core returned shape ", y.sizes(), "; expected [B,H,T,D] = [",
              b, ",", h, ",", t, ",", c / h, "]");
  return o_.forward(y.transpose(1, 2).reshape({b, t, c}));
}

void MultiHeadAttentionImpl::init_gpt2(double std, double out_std) {
  init_linear_gpt2(*q_.ptr(), std);
  init_linear_gpt2(*k_.ptr(), std);
  init_linear_gpt2(*v_.ptr(), std);
  init_linear_gpt2(*o_.ptr(), out_std);
}

}  // namespace lmlab
