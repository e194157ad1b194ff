// The adaptation methods of P2's comparisons (lmlab/ntk_attention/adaptation.h): parsing, the
// adapter each puts into a model, and which parameters stay trainable.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/ntk_attention/adaptation.h"
#include "support/usage_error.h"

namespace lmlab::ntk_attention {
namespace {

using test_support::usage_error;

GPT tiny(GPTOptions o = {}) { return GPT(o.vocab(11).context(8).layers(2).heads(2).width(8)); }

TEST(Adaptation, ParsesEveryMethodAndRefusesOtherText) {
  EXPECT_EQ(parse_adapt_method("full").kind, AdaptKind::Full);
  EXPECT_EQ(parse_adapt_method("head").kind, AdaptKind::Head);
  EXPECT_EQ(parse_adapt_method("ntk").kind, AdaptKind::Ntk);
  const AdaptMethod lora = parse_adapt_method("lora:4");
  EXPECT_EQ(lora.kind, AdaptKind::Lora);
  EXPECT_EQ(lora.size, 4);
  EXPECT_EQ(lora.name, "lora:4");
  EXPECT_EQ(parse_adapt_method("prefix:10").size, 10);
  EXPECT_TRUE(parse_adapt_method("prefix:10").peft_baseline());
  EXPECT_FALSE(parse_adapt_method("full").frozen_backbone());
  for (const char* bad : {"lora", "lora:", "lora:0", "lora:x", "prefix:-1", "ntk:3", "full:1", "adapter", ""}) {
    const std::string message = usage_error([&] { parse_adapt_method(bad); });
    EXPECT_NE(message.find("lora:R or prefix:M"), std::string::npos) << bad << ": " << message;
  }
}

TEST(Adaptation, LoraAdaptsTheAttentionProjectionsOnly) {
  GPT model = tiny(with_adapter(GPTOptions(), parse_adapt_method("lora:2")));
  int64_t adapted = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().find("lora_A") == std::string::npos) continue;
    ++adapted;
    EXPECT_NE(p.key().find(".attn."), std::string::npos) << p.key();
  }
  EXPECT_EQ(adapted, 2 * 4);  // q, k, v, o in each of 2 layers
}

TEST(Adaptation, StartCopiesTheBackboneAndFreezesAllButTheAdapter) {
  torch::manual_seed(0);
  GPT backbone = tiny();
  AdaptMethod ntk = parse_adapt_method("ntk");
  ntk.ntk_kappa_init = 0.5;
  GPT model = tiny(with_adapter(GPTOptions(), ntk));
  const int64_t trainable = start_adaptation(*model, *backbone, ntk, {});
  EXPECT_EQ(trainable, 2 * 2 * (4 * 4 + 4));  // d^2 + d per head and layer, D = 4
  EXPECT_NEAR(mean_ntk_kappa(*model), 0.5, 1e-6);
  const auto want = backbone->named_parameters();
  for (const auto& p : model->named_parameters())
    if (want.contains(p.key())) EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
  EXPECT_TRUE(std::isnan(mean_ntk_kappa(*backbone)));
  GPT full = tiny();
  EXPECT_EQ(start_adaptation(*full, *backbone, parse_adapt_method("full"), {}), full->num_parameters());
  EXPECT_THROW(start_adaptation(*full, *backbone, parse_adapt_method("head"), {}), UsageError);
}

}  // namespace
}  // namespace lmlab::ntk_attention
