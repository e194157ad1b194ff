// Pre-norm transformer block (include/lmlab/models/block.h).
#include "lmlab/models/block.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab {

TransformerBlockImpl::TransformerBlockImpl(const TransformerBlockOptions& options)
    : options_(options) {
  const int64_t c = options.width(), h = options.heads();
  LMLAB_CHECK(options.mlp_ratio() >= 1, UsageError, "mlp_ratio must be >= 1; got ",
              options.mlp_ratio(), " (GPT-2 and ViT use 4)");
  LMLAB_CHECK(options.dropout() >= 0 && options.dropout() < 1, UsageError,
              "dropout must be in [0, 1); got ", options.dropout());
  LMLAB_CHECK(options.attention(), UsageError,
              "no attention factory set; leave the option at its default (default_attention_factory())");
  LMLAB_CHECK(h >= 1 && c >= 1 && c % h == 0, UsageError, "width ", c,
              " is not a positive multiple of heads ", h, "; choose width = heads * head_dim");
  auto core = options.attention()(options.layer(), h, c / h);
  LMLAB_CHECK(core, UsageError, "the attention factory returned no core for layer ",
              options.layer(), "; return a std::shared_ptr<AttentionCore>");
  ln1_ = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  attn_ = register_module(
      "attn", MultiHeadAttention(MultiHeadAttentionOptions(c, h).linear(options.linear()).core(core)));
  ln2_ = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  mlp_ = register_module("mlp", MLP(MLPOptions(c, {options.mlp_ratio() * c}, c)
                                        .activation(Activation::GELU)
                                        .linear(options.linear())));
  drop_ = register_module("drop", torch::nn::Dropout(options.dropout()));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x) {
  auto y = x + drop_(attn_(ln1_(x), options_.causal()));
  return y + drop_(mlp_(ln2_(y)));
}

void TransformerBlockImpl::init_gpt2(int64_t layers) {
  const double std = 0.02, out_std = 0.02 / std::sqrt(2.0 * static_cast<double>(layers));
  ln1_->reset_parameters();
  ln2_->reset_parameters();
  attn_->init_gpt2(std, out_std);
  mlp_->init_gpt2(std, out_std);
}

}  // namespace lmlab
