// P-Tuning v2 prefix attention (include/lmlab/ntk_attention/prefix_attention.h).
#include "lmlab/ntk_attention/prefix_attention.h"

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"
#include "lmlab/models/flash_attention.h"

namespace lmlab::ntk_attention {

PrefixAttention::PrefixAttention(int64_t heads, int64_t head_dim, const PrefixAttentionOptions& options)
    : heads_(heads), head_dim_(head_dim), options_(options) {
  const int64_t m = options.length();
  LMLAB_CHECK(heads >= 1 && head_dim >= 1, UsageError, "PrefixAttention needs heads >= 1 and head_dim >= 1; got ",
              heads, " and ", head_dim);
  LMLAB_CHECK(m >= 1, UsageError, "PrefixAttentionOptions::length (prefix length m) must be >= 1; got ", m,
              ". For no prefix use the model's default SoftmaxAttention");
  LMLAB_CHECK(options.init_std() > 0, UsageError, "PrefixAttentionOptions::init_std must be > 0; got ",
              options.init_std());
  // The prefix vectors (2 m C), or E (m C) and the MLP (C h + h + 2 C h + 2 C), C = H D.
  const double c = double(heads) * double(head_dim), h = double(options.hidden());
  check_model_memory("PrefixAttention", options.reparameterize() ? m * c + 3.0 * c * h + h + 2.0 * c : 2.0 * m * c,
                     "lower the prefix length, heads, head dim or hidden width");
  if (!options.reparameterize()) {
    keys_ = register_parameter("prefix_keys", torch::randn({heads, m, head_dim}) * options.init_std());
    values_ = register_parameter("prefix_values", torch::randn({heads, m, head_dim}) * options.init_std());
    return;
  }
  LMLAB_CHECK(options.hidden() >= 1, UsageError, "PrefixAttentionOptions::hidden must be >= 1; got ",
              options.hidden());
  const int64_t width = heads * head_dim;
  embedding_ = register_parameter("embedding", torch::randn({m, width}) * options.init_std());
  mlp_ = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(width, options.hidden()), torch::nn::Tanh(),
                                                      torch::nn::Linear(options.hidden(), 2 * width)));
}

std::pair<torch::Tensor, torch::Tensor> PrefixAttention::prefix() {
  if (!options_.reparameterize()) return {keys_, values_};
  const int64_t m = options_.length();
  // [m, 2C] -> 2 x [m, H, D] -> [H, m, D]
  const auto kv = mlp_->forward(embedding_).view({m, 2, heads_, head_dim_}).permute({1, 2, 0, 3});
  return {kv[0], kv[1]};
}

torch::Tensor PrefixAttention::forward(const torch::Tensor& q, const torch::Tensor& k,
                                       const torch::Tensor& v, bool causal) {
  check_attention_shapes(q, k, v, causal);
  LMLAB_CHECK(q.size(1) == heads_ && q.size(3) == head_dim_, UsageError, "PrefixAttention was built for ",
              heads_, " heads of size ", head_dim_, "; got q ", q.sizes());
  const auto [pk, pv] = prefix();
  const int64_t b = q.size(0);
  const auto keys = torch::cat({pk.unsqueeze(0).expand({b, -1, -1, -1}).to(k.dtype()), k}, 2);
  const auto values = torch::cat({pv.unsqueeze(0).expand({b, -1, -1, -1}).to(v.dtype()), v}, 2);
  return exact_attention(q, keys, values, causal);
}

AttentionFactory prefix_attention_factory(const PrefixAttentionOptions& options) {
  return [options](int64_t, int64_t heads, int64_t head_dim) {
    return std::make_shared<PrefixAttention>(heads, head_dim, options);
  };
}

}  // namespace lmlab::ntk_attention
