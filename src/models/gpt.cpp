// Tiny GPT (include/lmlab/models/gpt.h).
#include "lmlab/models/gpt.h"

#include <cmath>
#include <limits>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab {

namespace {
void validate(const GPTOptions& o) {
  LMLAB_CHECK(o.vocab() >= 1, UsageError, "GPT vocab must be >= 1; got ", o.vocab(),
              " (the byte tokenizer uses 256)");
  LMLAB_CHECK(o.context() >= 1, UsageError, "GPT context must be >= 1; got ", o.context());
  LMLAB_CHECK(o.layers() >= 1, UsageError, "GPT layers must be >= 1; got ", o.layers());
  LMLAB_CHECK(o.heads() >= 1, UsageError, "GPT heads must be >= 1; got ", o.heads());
  LMLAB_CHECK(o.width() >= 1 && o.width() % o.heads() == 0, UsageError, "GPT width ", o.width(),
              " is not divisible by heads ", o.heads(), "; choose a width that is a multiple of ",
              o.heads(), " (e.g. ", o.heads() * std::max<int64_t>(1, o.width() / o.heads()), ")");
  LMLAB_CHECK(o.dropout() >= 0 && o.dropout() < 1, UsageError, "GPT dropout must be in [0, 1); got ",
              o.dropout(), " (0 disables it)");
  LMLAB_CHECK(o.linear(), UsageError, "GPT has no linear factory; leave it at the default");
  // Embeddings, per block attention (4 C^2) and MLP (2 r C^2), and an untied head.
  const double c = static_cast<double>(o.width());
  check_model_memory("GPT", (o.vocab() * (o.tied_head() ? 1.0 : 2.0) + o.context()) * c +
                                o.layers() * (4.0 + 2.0 * o.mlp_ratio()) * c * c,
                     "lower model.width, model.layers or model.context");
}

void check_tokens(const torch::Tensor& idx, int64_t vocab, const char* what) {
  LMLAB_CHECK(idx.dim() == 2 && idx.scalar_type() == torch::kLong, UsageError, what,
              " expects token ids [B,T] of dtype int64; got shape ", idx.sizes(), " dtype ",
              idx.scalar_type());
  if (idx.numel() == 0) return;
  const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
  LMLAB_CHECK(lo >= 0 && hi < vocab, UsageError, what, ": token id ", lo < 0 ? lo : hi,
              " is outside the vocabulary [0, ", vocab, "); use a tokenizer with at most ", vocab,
              " symbols or a larger vocab");
}
}  // namespace

GPTImpl::GPTImpl(const GPTOptions& options) : options_(options) {
  validate(options);
  const int64_t c = options.width();
  wte_ = register_module("wte", torch::nn::Embedding(options.vocab(), c));
  wpe_ = register_module("wpe", torch::nn::Embedding(options.context(), c));
  drop_ = register_module("drop", torch::nn::Dropout(options.dropout()));
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l) {
    blocks_.emplace_back(TransformerBlockOptions(c, options.heads())
                             .mlp_ratio(options.mlp_ratio())
                             .causal(true)
                             .dropout(options.dropout())
                             .layer(l)
                             .linear(options.linear())
                             .attention(options.attention()));
    blocks->push_back(blocks_.back());
  }
  ln_f_ = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  if (!options.tied_head()) {
    head_ = make_linear(options.linear(), c, options.vocab(), /*bias=*/false, LinearRole::Head);
    register_module("head", head_.ptr());
  }

  torch::NoGradGuard no_grad;
  wte_->weight.normal_(0.0, 0.02);
  wpe_->weight.normal_(0.0, 0.02);
  for (auto& block : blocks_) block->init_gpt2(options.layers());
  if (!head_.is_empty()) init_linear_gpt2(*head_.ptr(), 0.02);
}

torch::Tensor GPTImpl::embed(const torch::Tensor& idx) {
  check_tokens(idx, options_.vocab(), "GPT");
  return wte_(idx);
}

torch::Tensor GPTImpl::hidden(const torch::Tensor& embeddings) {
  const int64_t c = options_.width();
  LMLAB_CHECK(embeddings.dim() == 3 && embeddings.size(2) == c, UsageError,
              "GPT expects embeddings [B,T,", c, "]; got ", embeddings.sizes());
  const int64_t t = embeddings.size(1);
  LMLAB_CHECK(t <= options_.context(), UsageError, "sequence length T = ", t,
              " exceeds the GPT context ", options_.context(),
              "; feed at most the last context tokens or build the model with a longer context");
  auto pos = torch::arange(t, embeddings.options().dtype(torch::kLong));
  auto x = drop_(embeddings + wpe_(pos));
  for (auto& block : blocks_) x = block(x);
  return ln_f_(x);
}

torch::Tensor GPTImpl::forward_embeddings(const torch::Tensor& embeddings) {
  auto h = hidden(embeddings);
  return head_.is_empty() ? torch::matmul(h, wte_->weight.t()) : head_.forward(h);
}

torch::Tensor GPTImpl::forward(const torch::Tensor& idx) { return forward_embeddings(embed(idx)); }

torch::Tensor GPTImpl::generate(const torch::Tensor& prompt, int64_t n_new, double temperature,
                                int64_t top_k, c10::optional<torch::Generator> generator) {
  check_tokens(prompt, options_.vocab(), "generate");
  LMLAB_CHECK(prompt.size(1) >= 1, UsageError, "generate needs a prompt of at least one token; got ",
              prompt.sizes());
  LMLAB_CHECK(n_new >= 0, UsageError, "generate: n_new must be >= 0; got ", n_new);
  LMLAB_CHECK(temperature >= 0 && std::isfinite(temperature), UsageError,
              "generate: temperature must be finite and >= 0 (0 = greedy); got ", temperature);
  LMLAB_CHECK(top_k >= 0 && top_k <= options_.vocab(), UsageError, "generate: top_k must be in [0, ",
              options_.vocab(), "] (0 = all tokens); got ", top_k);
  torch::NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  torch::Tensor out = prompt;
  for (int64_t i = 0; i < n_new; ++i) {
    const int64_t t = out.size(1), start = std::max<int64_t>(0, t - options_.context());
    auto logits = forward(out.slice(1, start, t)).select(1, -1).to(torch::kDouble);
    torch::Tensor next;
    if (temperature == 0) {
      next = logits.argmax(-1, /*keepdim=*/true);
    } else {
      logits = logits / temperature;
      if (top_k > 0) {
        auto kth = std::get<0>(logits.topk(top_k, -1)).select(-1, top_k - 1).unsqueeze(-1);
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<double>::infinity());
      }
      next = torch::multinomial(torch::softmax(logits, -1), 1, /*replacement=*/false, generator);
    }
    out = torch::cat({out, next}, 1);
  }
  train(was_training);
  return out;
}

int64_t GPTImpl::num_parameters(bool non_embedding) const {
  const int64_t n = count_parameters(*this);
  return non_embedding ? n - wte_->weight.numel() - wpe_->weight.numel() : n;
}

const TransformerBlock& GPTImpl::block(int64_t layer) const {
  LMLAB_CHECK(layer >= 0 && layer < options_.layers(), UsageError, "GPT layer ", layer,
              " does not exist; valid layers are 0 .. ", options_.layers() - 1);
  return blocks_[static_cast<size_t>(layer)];
}

double LMLoss::bits_per_token() const { return total_nats / (static_cast<double>(tokens) * std::log(2.0)); }

LMLoss lm_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  LMLAB_CHECK(logits.dim() == 3 && targets.dim() == 2 && targets.scalar_type() == torch::kLong &&
                  logits.size(0) == targets.size(0) && logits.size(1) == targets.size(1),
              UsageError, "lm_loss expects logits [B,T,V] and int64 targets [B,T]; got logits ",
              logits.sizes(), " and targets ", targets.sizes(), " of dtype ", targets.scalar_type());
  const int64_t v = logits.size(2), n = targets.numel();
  LMLAB_CHECK(n > 0, UsageError, "lm_loss needs at least one target token; got targets ", targets.sizes());
  const int64_t lo = targets.min().item<int64_t>(), hi = targets.max().item<int64_t>();
  LMLAB_CHECK(lo >= 0 && hi < v, UsageError, "target token ", lo < 0 ? lo : hi,
              " is outside the vocabulary [0, ", v, ")");
  LMLoss out;
  out.loss = torch::nn::functional::cross_entropy(logits.reshape({n, v}), targets.reshape({n}));
  out.tokens = n;
  out.total_nats = out.loss.item<double>() * static_cast<double>(n);
  return out;
}

}  // namespace lmlab
