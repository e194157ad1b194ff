// The fine-tuning baselines and bookkeeping of P2: LoRA (lmlab/ntk_attention/lora.h), P-Tuning v2
// prefix attention (prefix_attention.h) against hand-written references, and the freezing and
// copying utilities (adapters.h) on real models.
#include <gtest/gtest.h>

#include <limits>

#include <cmath>

#include "lmlab/ntk_attention/adapters.h"
#include "lmlab/ntk_attention/lora.h"
#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/ntk_attention/prefix_attention.h"
#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/parameters.h"
#include "lmlab/models/vit.h"

using namespace lmlab;
using namespace lmlab::ntk_attention;

TEST(Lora, StartsAsTheBaseLayerAndAddsTheScaledLowRankUpdate) {
  torch::manual_seed(1);
  LoraLinear lora(6, 5, true, LoraOptions(2).alpha(3));
  auto p = lora->named_parameters();
  ASSERT_EQ(p.size(), 4u);
  const auto x = torch::randn({4, 6});
  const auto base = torch::matmul(x, p["weight"].t()) + p["bias"];
  EXPECT_TRUE(torch::equal(p["lora_B"], torch::zeros({5, 2})));
  EXPECT_LT((lora(x) - base).abs().max().item<double>(), 1e-6);
  torch::NoGradGuard no_grad;
  p["lora_B"].normal_();
  const auto want = base + 1.5 * torch::matmul(x, torch::matmul(p["lora_B"], p["lora_A"]).t());
  EXPECT_LT((lora(x) - want).abs().max().item<double>(), 1e-5);
}

TEST(Lora, BadOptionsAreUsageErrors) {
  EXPECT_THROW(LoraLinear(6, 5, true, LoraOptions(0)), UsageError);
  EXPECT_THROW(LoraLinear(6, 5, true, LoraOptions(6)), UsageError);  // rank > min(in, out)
  EXPECT_THROW(LoraLinear(6, 5, true, LoraOptions(2).alpha(-1)), UsageError);
  // Found by the pyargs fuzz target: raw LibTorch errors for these inputs, and sizes past memory.
  LoraLinear lora(6, 5, true, LoraOptions(2));
  EXPECT_THROW(lora(torch::randn({3, 7})), UsageError);
  EXPECT_THROW(lora(torch::tensor(1.0f)), UsageError);
  EXPECT_THROW(lora(torch::randn({3, 6}, torch::kDouble)), UsageError);
  EXPECT_THROW(LoraLinear(int64_t{1} << 40, int64_t{1} << 40, true, LoraOptions(2)), UsageError);
}

// Query i sees all m prefix keys and input keys 0..i (causal) or all (not): written out by hand.
TEST(PrefixAttention, EqualsSoftmaxOverPrefixAndInput) {
  for (bool causal : {false, true}) {
    torch::manual_seed(2);
    PrefixAttention core(2, 4, PrefixAttentionOptions(3));
    core.to(torch::kDouble);
    const int64_t t = 5, m = 3;
    const auto q = torch::randn({2, 2, t, 4}, torch::kDouble), k = torch::randn({2, 2, t, 4}, torch::kDouble),
               v = torch::randn({2, 2, t, 4}, torch::kDouble);
    const auto [pk, pv] = core.prefix();
    auto out = core.forward(q, k, v, causal);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t i = 0; i < t; ++i) {
          std::vector<double> w;
          std::vector<torch::Tensor> vals;
          for (int64_t l = 0; l < m; ++l) w.push_back((q[b][h][i] * pk[h][l]).sum().item<double>() / 2), vals.push_back(pv[h][l]);
          for (int64_t j = 0; j < t && (!causal || j <= i); ++j)
            w.push_back((q[b][h][i] * k[b][h][j]).sum().item<double>() / 2), vals.push_back(v[b][h][j]);
          double mx = -INFINITY, sum = 0;
          for (double s : w) mx = std::max(mx, s);
          auto want = torch::zeros({4}, torch::kDouble);
          for (size_t j = 0; j < w.size(); ++j) sum += std::exp(w[j] - mx), want += std::exp(w[j] - mx) * vals[j];
          EXPECT_LT((out[b][h][i].detach() - want / sum).abs().max().item<double>(), 1e-12) << b << h << i << causal;
        }
  }
}

TEST(PrefixAttention, ReparameterisedPrefixTrainsThroughTheMlp) {
  torch::manual_seed(3);
  PrefixAttention core(2, 4, PrefixAttentionOptions(10).reparameterize(true).hidden(16));
  const auto [pk, pv] = core.prefix();
  EXPECT_EQ(pk.sizes(), (std::vector<int64_t>{2, 10, 4}));
  EXPECT_EQ(pv.sizes(), (std::vector<int64_t>{2, 10, 4}));
  const auto x = torch::randn({1, 2, 6, 4});
  core.forward(x, x, x, true).sum().backward();
  for (const auto& p : core.named_parameters())
    EXPECT_TRUE(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0) << p.key();
  EXPECT_EQ(count_parameters(core), 10 * 8 + (8 * 16 + 16) + (16 * 16 + 16));
}

TEST(PrefixAttention, BadOptionsAreUsageErrors) {
  EXPECT_THROW(PrefixAttention(2, 4, PrefixAttentionOptions(0)), UsageError);  // m = 0
  EXPECT_THROW(PrefixAttention(2, 4, PrefixAttentionOptions(3).reparameterize(true).hidden(0)), UsageError);
  PrefixAttention core(2, 4, PrefixAttentionOptions(3));
  const auto x = torch::randn({1, 3, 6, 4});
  EXPECT_THROW(core.forward(x, x, x, true), UsageError);  // 3 heads, built for 2
  // Found by the pyargs fuzz target: m H D overflowed int64, and a prefix past memory was allocated.
  EXPECT_THROW(PrefixAttention(std::numeric_limits<int64_t>::max(), 5, PrefixAttentionOptions(3)), UsageError);
  EXPECT_THROW(PrefixAttention(1, 1, PrefixAttentionOptions(std::numeric_limits<int64_t>::max())), UsageError);
}

TEST(Adapters, TrainOnlyTheAdaptersOfEachMethod) {
  const auto gpt = [](GPTOptions o) { return GPT(o.vocab(11).context(8).layers(2).heads(2).width(8)); };
  const int64_t h = 2, d = 4, c = 8, layers = 2;
  GPT ntk = gpt(GPTOptions().attention(ntk_attention_factory()));
  EXPECT_EQ(train_adapters_only(*ntk), layers * h * (d * d + d));  // d^2 + d per head
  GPT prefix = gpt(GPTOptions().attention(prefix_attention_factory(PrefixAttentionOptions(5))));
  EXPECT_EQ(train_adapters_only(*prefix), layers * 2 * h * 5 * d);
  GPT lora = gpt(GPTOptions().linear(lora_linear_factory(LoraOptions(2))));
  const int64_t lora_params = train_adapters_only(*lora);
  int64_t want = 0;
  for (const auto& p : lora->named_parameters())
    if (p.key().find("lora_") != std::string::npos) want += p.value().numel();
  EXPECT_EQ(lora_params, want);
  EXPECT_EQ(want, layers * 4 * 2 * (c + c));  // A [2, c] and B [c, 2] on q, k, v, o of every layer
  GPT lora_mlp = gpt(GPTOptions().linear(lora_linear_factory(LoraOptions(2).roles({LinearRole::MlpHidden}))));
  EXPECT_EQ(train_adapters_only(*lora_mlp), layers * 2 * (c + 4 * c));  // fc0 only: A [2, c], B [4c, 2]
  for (const auto& p : lora_mlp->named_parameters())
    if (p.key().find("lora_") != std::string::npos) EXPECT_NE(p.key().find(".mlp.fc0."), std::string::npos) << p.key();
  GPT plain = gpt(GPTOptions());
  EXPECT_THROW(train_adapters_only(*plain), UsageError);
  EXPECT_EQ(train_adapters_only(*plain, {"ln_f."}), 2 * c);
  EXPECT_FALSE(is_adapter_parameter("blocks.0.mlp.fc0.weight"));
  EXPECT_TRUE(is_adapter_parameter("blocks.1.attn.core.Z"));
  EXPECT_FALSE(is_adapter_parameter("blocks.1.attn.encore.Z"));
}

TEST(Adapters, CopyTheBackboneIntoAnAdaptedModel) {
  torch::manual_seed(4);
  ViT backbone(ViTOptions().layers(2).heads(2).width(8));
  ViT adapted(ViTOptions().layers(2).heads(2).width(8).attention(ntk_attention_factory()));
  EXPECT_EQ(copy_matching_parameters(*backbone, *adapted),
            static_cast<int64_t>(backbone->named_parameters().size() + backbone->named_buffers().size()));
  for (const auto& p : backbone->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), adapted->named_parameters()[p.key()])) << p.key();
  // Z = 0 and kappa_init = 1e-2: without a causal mask every row's E sums 17 terms, so the start
  // differs from the backbone by about 1e-2 D / 17 = 2e-3 relative per row (measured 1.9e-5 on
  // the logits).
  const auto images = torch::rand({3, 1, 28, 28});
  EXPECT_LT((backbone(images) - adapted(images)).abs().max().item<double>(), 1e-3);
  const int64_t head_tensors = 2;
  EXPECT_EQ(copy_matching_parameters(*backbone, *adapted, {"head."}),
            static_cast<int64_t>(backbone->named_parameters().size() + backbone->named_buffers().size()) - head_tensors);
  ViT wider(ViTOptions().layers(2).heads(2).width(16));
  EXPECT_THROW(copy_matching_parameters(*backbone, *wider), DataError);
}

// A causal GPT adapted with NTK-Attention starts at its backbone up to the initial prefix mass:
// to first order each attention row shrinks by phi(q)^T kappa / E, linear in kappa_init, so the
// logits move by an amount proportional to kappa_init (ratio 10 within 10% between 1e-4 and 1e-3,
// where the second-order term mass / E is ~1%): ~1e-4 at kappa_init = 1e-4, and at the default
// 1e-2 about 100 times more (sublinear there: the first rows lose percents).
TEST(Adapters, NtkAttentionStartsAtTheBackboneUpToTheInitialPrefixMass) {
  torch::manual_seed(8);
  const auto options = GPTOptions().vocab(11).context(8).layers(2).heads(2).width(32);
  GPT backbone(options);
  const auto idx = torch::randint(0, 11, {4, 8}, torch::kLong);
  const auto want = backbone(idx);
  std::vector<double> diff;
  for (double kappa_init : {1e-4, 1e-3, NtkAttentionOptions().kappa_init()}) {
    GPT adapted(GPTOptions(options).attention(ntk_attention_factory(NtkAttentionOptions().kappa_init(kappa_init))));
    copy_matching_parameters(*backbone, *adapted);
    diff.push_back((adapted(idx) - want).abs().max().item<double>());
  }
  EXPECT_LT(diff[0], 1e-3);  // measured 1.4e-4
  EXPECT_NEAR(diff[1] / diff[0], 10, 1);
  EXPECT_GT(diff[2], 30 * diff[0]);  // measured 1.2e-2
}
