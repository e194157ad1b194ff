// Tiny GPT: shapes, causality, head tying, initialisation, factories, generation, loss, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/parameters.h"

using namespace lmlab;

namespace {
GPTOptions tiny() { return GPTOptions().vocab(11).context(8).layers(2).heads(2).width(8); }

// Runs fn and returns the UsageError's message (fails the test when nothing is thrown).
template <typename Fn>
std::string usage_error(Fn fn) {
  try {
    fn();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected UsageError";
  return "";
}
}  // namespace

TEST(GPT, LogitShapesInFloatAndDouble) {
  GPT gpt(tiny());
  auto idx = torch::randint(0, 11, {3, 5}, torch::kLong);
  EXPECT_EQ(gpt(idx).sizes(), (std::vector<int64_t>{3, 5, 11}));
  gpt->to(torch::kDouble);
  auto logits = gpt(idx);
  EXPECT_EQ(logits.scalar_type(), torch::kDouble);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 5, 11}));
}

TEST(GPT, ChangingTokenTLeavesEarlierLogitsUnchanged) {
  torch::manual_seed(0);
  GPT gpt(tiny());
  auto idx = torch::randint(0, 11, {2, 8}, torch::kLong);
  auto base = gpt(idx);
  for (int64_t t = 0; t < 8; ++t) {
    auto changed = idx.clone();
    changed.select(1, t).add_(1).remainder_(11);
    auto logits = gpt(changed);
    EXPECT_TRUE(torch::equal(logits.slice(1, 0, t), base.slice(1, 0, t))) << "t = " << t;
    EXPECT_FALSE(torch::allclose(logits.select(1, t), base.select(1, t))) << "t = " << t;
  }
}

TEST(GPT, TiedHeadUsesTokenEmbeddingsAndUntiedHeadIsOwnLayer) {
  GPT tied(tiny());
  auto idx = torch::randint(0, 11, {2, 4}, torch::kLong);
  auto p = tied->named_parameters();
  EXPECT_FALSE(p.contains("head.weight"));
  EXPECT_TRUE(torch::allclose(tied(idx), torch::matmul(tied->hidden(tied->embed(idx)), p["wte.weight"].t())));

  GPT untied(tiny().tied_head(false));
  auto q = untied->named_parameters();
  ASSERT_TRUE(q.contains("head.weight"));
  EXPECT_FALSE(q.contains("head.bias"));
  EXPECT_EQ(untied->num_parameters(), tied->num_parameters() + 11 * 8);
}

TEST(GPT, DropoutActsInTrainingOnly) {
  GPT gpt(tiny().dropout(0.5));
  auto idx = torch::randint(0, 11, {2, 6}, torch::kLong);
  EXPECT_FALSE(torch::equal(gpt(idx), gpt(idx)));
  gpt->eval();
  EXPECT_TRUE(torch::equal(gpt(idx), gpt(idx)));
}

TEST(GPT, ParameterCountMatchesFormula) {
  GPT gpt(tiny());
  const int64_t c = 8, per_block = 4 * (c * c + c) + (c * 4 * c + 4 * c) + (4 * c * c + c) + 4 * c;
  EXPECT_EQ(gpt->num_parameters(), 11 * c + 8 * c + 2 * per_block + 2 * c);
  EXPECT_EQ(gpt->num_parameters(/*non_embedding=*/true), 2 * per_block + 2 * c);
  EXPECT_EQ(count_parameters(*gpt), gpt->num_parameters());
}

TEST(GPT, InitialisationIsGPT2AndDeterministic) {
  torch::manual_seed(7);
  GPT a(GPTOptions().vocab(256).context(64).layers(8).heads(4).width(64));
  torch::manual_seed(7);
  GPT b(GPTOptions().vocab(256).context(64).layers(8).heads(4).width(64));
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  // Sample standard deviations of 16k+ draws are within 3% of the target (relative s.e. 1/sqrt(2n)).
  EXPECT_NEAR(pa["wte.weight"].std().item<double>(), 0.02, 0.02 * 0.03);
  EXPECT_NEAR(pa["blocks.0.attn.q.weight"].std().item<double>(), 0.02, 0.02 * 0.03);
  EXPECT_NEAR(pa["blocks.3.mlp.fc0.weight"].std().item<double>(), 0.02, 0.02 * 0.03);
  const double residual = 0.02 / std::sqrt(16.0);
  EXPECT_NEAR(pa["blocks.0.attn.o.weight"].std().item<double>(), residual, residual * 0.03);
  EXPECT_NEAR(pa["blocks.7.mlp.fc1.weight"].std().item<double>(), residual, residual * 0.03);
  EXPECT_EQ(pa["blocks.0.attn.q.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(pa["blocks.0.ln1.weight"], torch::ones({64})));
}

TEST(GPT, EveryLinearLayerComesFromTheFactory) {
  int calls = 0;
  std::vector<std::string> roles;
  auto counting = [&](int64_t in, int64_t out, bool bias, LinearRole role) {
    ++calls;
    roles.push_back(linear_role_name(role));
    return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  };
  GPT gpt(tiny().tied_head(false).linear(counting));
  EXPECT_EQ(calls, 2 * 6 + 1);  // per block q, k, v, o, fc0, fc1; plus the head
  const std::vector<std::string> block{"attn.q", "attn.k", "attn.v", "attn.o", "mlp.fc", "mlp.out"};
  std::vector<std::string> want = block;
  want.insert(want.end(), block.begin(), block.end());
  want.push_back("head");
  EXPECT_EQ(roles, want);
}

namespace {
// A core with its own parameter, as NTK-Attention or a prefix would have: softmax attention plus a
// learned per-head offset.
struct OffsetAttention : SoftmaxAttention {
  explicit OffsetAttention(int64_t heads, int64_t head_dim)
      : offset(register_parameter("offset", torch::zeros({heads, 1, head_dim}))) {}
  torch::Tensor forward(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        bool causal) override {
    return SoftmaxAttention::forward(q, k, v, causal) + offset;
  }
  torch::Tensor offset;
};
}  // namespace

TEST(GPT, AttentionFactoryBuildsEveryCoreAndItsParametersAreRegistered) {
  std::vector<std::vector<int64_t>> calls;
  std::vector<std::shared_ptr<OffsetAttention>> cores;
  auto factory = [&](int64_t layer, int64_t heads, int64_t head_dim) {
    calls.push_back({layer, heads, head_dim});
    cores.push_back(std::make_shared<OffsetAttention>(heads, head_dim));
    return cores.back();
  };
  GPT gpt(tiny().attention(factory));
  EXPECT_EQ(calls, (std::vector<std::vector<int64_t>>{{0, 2, 4}, {1, 2, 4}}));
  EXPECT_EQ(gpt->block(1)->attention()->core(), cores[1]);
  auto params = gpt->named_parameters();
  ASSERT_TRUE(params.contains("blocks.1.attn.core.offset"));

  auto idx = torch::randint(0, 11, {1, 4}, torch::kLong);
  auto before = gpt(idx);
  torch::NoGradGuard no_grad;
  params["blocks.1.attn.core.offset"].fill_(0.5);
  EXPECT_FALSE(torch::allclose(gpt(idx), before));
}

TEST(GPT, RecordsAttentionMapsOfTheDefaultCore) {
  GPT gpt(tiny());
  auto core = std::dynamic_pointer_cast<SoftmaxAttention>(gpt->block(0)->attention()->core());
  ASSERT_TRUE(core);
  core->record_probabilities(true);
  gpt(torch::randint(0, 11, {2, 6}, torch::kLong));
  EXPECT_EQ(core->last_probabilities().sizes(), (std::vector<int64_t>{2, 2, 6, 6}));
}

TEST(GPT, GenerateIsDeterministicForAGeneratorAndGreedyAtZeroTemperature) {
  torch::manual_seed(3);
  GPT gpt(tiny().context(4));
  gpt->train();
  auto prompt = torch::tensor({{1, 2, 3}, {4, 5, 6}}, torch::kLong);
  auto a = gpt->generate(prompt, 6, 1.0, 5, make_generator(42));
  auto b = gpt->generate(prompt, 6, 1.0, 5, make_generator(42));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 9}));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 3), prompt));
  EXPECT_TRUE(gpt->is_training());  // the mode is restored

  auto greedy = gpt->generate(prompt, 5, 0.0);
  gpt->eval();
  torch::NoGradGuard no_grad;
  for (int64_t t = 3; t < 8; ++t) {  // each token is the argmax given the last 4 (context) tokens
    auto window = greedy.slice(1, std::max<int64_t>(0, t - 4), t);
    EXPECT_TRUE(torch::equal(greedy.select(1, t), gpt(window).select(1, -1).argmax(-1))) << t;
  }

  auto top1 = gpt->generate(prompt, 5, 1.0, 1, make_generator(9));  // top_k 1 is greedy too
  EXPECT_TRUE(torch::equal(top1, greedy));
}

TEST(GPT, LossReportsMeanNatsAndBits) {
  GPT gpt(tiny());
  auto idx = torch::randint(0, 11, {2, 5}, torch::kLong), targets = torch::randint(0, 11, {2, 5}, torch::kLong);
  auto logits = gpt(idx);
  auto loss = lm_loss(logits, targets);
  auto logp = torch::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1));
  EXPECT_NEAR(loss.loss.item<double>(), -logp.mean().item<double>(), 1e-6);
  EXPECT_EQ(loss.tokens, 10);
  EXPECT_NEAR(loss.total_nats, -logp.sum().item<double>(), 1e-5);
  EXPECT_NEAR(loss.bits_per_token(), loss.loss.item<double>() / std::log(2.0), 1e-6);
  EXPECT_TRUE(loss.loss.requires_grad());
  EXPECT_THROW(lm_loss(logits, targets.slice(1, 0, 4)), UsageError);
  EXPECT_THROW(lm_loss(logits, targets + 11), UsageError);
}

TEST(GPT, BadOptionsAndInputsAreUsageErrorsWithTheValue) {
  EXPECT_NE(usage_error([] { GPT(tiny().width(10).heads(4)); }).find("width 10 is not divisible by heads 4"),
            std::string::npos);
  EXPECT_NE(usage_error([] { GPT(tiny().vocab(0)); }).find("vocab must be >= 1; got 0"), std::string::npos);
  EXPECT_NE(usage_error([] { GPT(tiny().dropout(1.5)); }).find("1.5"), std::string::npos);
  EXPECT_NE(usage_error([] { GPT(tiny().mlp_ratio(0)); }).find("mlp_ratio"), std::string::npos);
  EXPECT_NE(usage_error([] { GPT(tiny().attention([](int64_t, int64_t, int64_t) {
                          return std::shared_ptr<AttentionCore>();
                        })); }).find("no core for layer 0"),
            std::string::npos);

  GPT gpt(tiny());
  EXPECT_NE(usage_error([&] { gpt(torch::zeros({1, 9}, torch::kLong)); }).find("T = 9 exceeds the GPT context 8"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { gpt(torch::full({1, 3}, 11, torch::kLong)); }).find("token id 11"),
            std::string::npos);
  EXPECT_NE(usage_error([&] { gpt(torch::full({1, 3}, -1, torch::kLong)); }).find("token id -1"),
            std::string::npos);
  EXPECT_THROW(gpt(torch::zeros({1, 3}, torch::kInt)), UsageError);
  EXPECT_THROW(gpt(torch::zeros({3}, torch::kLong)), UsageError);
  EXPECT_THROW(gpt->generate(torch::zeros({1, 2}, torch::kLong), 2, -1.0), UsageError);
  EXPECT_THROW(gpt->generate(torch::zeros({1, 2}, torch::kLong), 2, 1.0, 12), UsageError);
  EXPECT_THROW(gpt->block(2), UsageError);
}

// The memory check before construction estimates training memory as 16 bytes per parameter,
// within 5% of the real count, and refuses a width that cannot fit before allocating anything.
TEST(GPT, TooLargeForMemoryIsRefusedBeforeAllocation) {
  const GPTOptions options = GPTOptions().vocab(256).context(64).layers(8).heads(4).width(64);
  const double bytes = 16.0 * GPT(options)->num_parameters();
  set_memory_limit(static_cast<uint64_t>(1.05 * bytes));
  EXPECT_NO_THROW(GPT{options});
  set_memory_limit(static_cast<uint64_t>(0.95 * bytes));
  EXPECT_THROW(GPT{options}, UsageError);
  set_memory_limit(0);
  try {
    GPT huge(GPTOptions().width(1000000000));
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("training a GPT of 4.8e+19 parameters would need about"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("lower model.width"), std::string::npos) << e.what();
  }
}
