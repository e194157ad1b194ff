// The protected language-model loss (lmlab/copyright/protected_loss.h) against the plain formula
// and finite differences, its guards, and the released-code emulation (released_code.h).
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/copyright/protected_loss.h"
#include "lmlab/copyright/released_code.h"
#include "lmlab/core/error.h"
#include "support/gradcheck.h"
#include "support/usage_error.h"

namespace lmlab::copyright {
namespace {

using test_support::usage_error;

struct Batch {
  torch::Tensor logits, targets, mask;
};

Batch random_batch(uint64_t seed, int64_t b = 3, int64_t t = 5, int64_t v = 7) {
  torch::manual_seed(seed);
  return {torch::randn({b, t, v}, torch::kDouble).requires_grad_(), torch::randint(0, v, {b, t}),
          torch::rand({b, t}) < 0.4};
}

// The objective written out with plain LibTorch calls.
torch::Tensor plain_formula(const Batch& x, double gamma) {
  const auto logp = torch::log_softmax(x.logits, -1);
  const auto nll = -logp.gather(2, x.targets.unsqueeze(2)).squeeze(2);
  const auto cp = x.mask.to(torch::kDouble);
  return nll.mean() + gamma / ((nll * cp).sum() / cp.sum());
}

TEST(ProtectedLoss, EqualsThePlainFormulaAndItsGradient) {
  for (uint64_t seed = 0; seed < 4; ++seed) {
    const auto x = random_batch(seed);
    ASSERT_GT(x.mask.sum().item<int64_t>(), 0);
    const auto l = protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().gamma(0.3).ce_floor(1e-6));
    const auto ref = plain_formula(x, 0.3);
    EXPECT_NEAR(l.loss.item<double>(), ref.item<double>(), 1e-12);
    EXPECT_TRUE(l.has_copyrighted);
    EXPECT_EQ(l.copyrighted_tokens, x.mask.sum().item<int64_t>());
    EXPECT_EQ(l.tokens, 15);
    const auto g = torch::autograd::grad({l.loss}, {x.logits})[0];
    const auto g_ref = torch::autograd::grad({ref}, {x.logits})[0];
    EXPECT_LT((g - g_ref).abs().max().item<double>(), 1e-12);
    EXPECT_TRUE(test_support::gradients_match_finite_differences(
        [&] { return protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().gamma(0.3)).loss; },
        {x.logits}, {"logits"}, {.entries = 8}));
  }
}

TEST(ProtectedLoss, GammaZeroIsCrossEntropy) {
  const auto x = random_batch(5);
  const auto l = protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().gamma(0));
  EXPECT_NEAR(l.loss.item<double>(), plain_formula(x, 0).item<double>(), 1e-12);
  EXPECT_NEAR(l.ce_all, l.loss.item<double>(), 1e-12);
}

TEST(ProtectedLoss, BatchWithoutCopyrightedTokensDropsTheTerm) {
  const auto x = random_batch(6);
  const auto none = torch::zeros_like(x.mask);
  const auto l = protected_loss(x.logits, x.targets, none, ProtectedLossOptions().gamma(0.5));
  EXPECT_FALSE(l.has_copyrighted);
  EXPECT_TRUE(std::isnan(l.ce_cp));
  EXPECT_NEAR(l.loss.item<double>(), plain_formula(x, 0).item<double>(), 1e-12);
}

TEST(ProtectedLoss, FloorKeepsTheTermFiniteAndConstant) {
  auto x = random_batch(7);
  // Copyrighted targets predicted with a margin of 60 nats: CE_cp ~ 1e-26, far below the floor.
  auto logits = x.logits.detach().clone();
  const auto onehot = torch::one_hot(x.targets, 7).to(torch::kDouble) * 60;
  logits = torch::where(x.mask.unsqueeze(2), onehot, logits).requires_grad_();
  const auto opt = ProtectedLossOptions().gamma(0.5).ce_floor(1e-2);
  const auto l = protected_loss(logits, x.targets, x.mask, opt);
  EXPECT_TRUE(l.floored);
  EXPECT_LT(l.ce_cp, 1e-20);
  EXPECT_NEAR(l.loss.item<double>(), l.ce_all + 0.5 / 1e-2, 1e-9);
  const auto g = torch::autograd::grad({l.loss}, {logits})[0];
  const auto g_ce = torch::autograd::grad({protected_loss(logits, x.targets, x.mask, ProtectedLossOptions().gamma(0)).loss},
                                          {logits})[0];
  EXPECT_LT((g - g_ce).abs().max().item<double>(), 1e-15);  // the term adds no gradient
}

TEST(ProtectedLoss, BadInputIsAUsageError) {
  const auto x = random_batch(8);
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().gamma(-1)); }),
                  "gamma must be finite and >= 0");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().gamma(INFINITY)); }),
                  "gamma");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets, x.mask, ProtectedLossOptions().ce_floor(0)); }),
                  "ce_floor");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets, x.mask.to(torch::kLong), {}); }), "bool");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets, x.mask.slice(1, 1), {}); }), "[B,T]");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits, x.targets + 7, x.mask, {}); }), "targets must be in");
  EXPECT_MENTIONS(usage_error([&] { protected_loss(x.logits.select(0, 0), x.targets, x.mask, {}); }), "[B,T,V]");
}

GPT tiny_gpt(bool tied = true) {
  torch::manual_seed(1);
  return GPT(GPTOptions().vocab(16).context(8).layers(1).heads(2).width(8).tied_head(tied));
}

MarkedBatch gpt_batch() {
  torch::manual_seed(2);
  const auto x = torch::randint(0, 16, {4, 8}), y = torch::randint(0, 16, {4, 8});
  auto cp = torch::zeros({4, 8}, torch::kBool);
  cp[2].fill_(true);  // only row 2 is copyrighted
  return {x, y, cp};
}

TEST(ProtectedLoss, GammaTermReachesEveryParameter) {
  GPT model = tiny_gpt();
  const auto b = gpt_batch();
  const auto l = protected_loss(model->forward(b.x), b.y, b.copyrighted, ProtectedLossOptions().gamma(0.5));
  // The gamma term's gradient: the protected loss's minus plain CE's.
  model->zero_grad();
  l.loss.backward();
  std::map<std::string, torch::Tensor> with;
  for (const auto& p : model->named_parameters()) with[p.key()] = p.value().grad().clone();
  model->zero_grad();
  protected_loss(model->forward(b.x), b.y, b.copyrighted, ProtectedLossOptions().gamma(0)).loss.backward();
  int64_t reached = 0, total = 0;
  for (const auto& p : model->named_parameters()) {
    // A key bias adds q.b_k to every score of a row, which softmax ignores: its gradient is 0 always.
    if (p.key().find("attn.k.bias") != std::string::npos) continue;
    ++total;
    const bool moved = (with[p.key()] - p.value().grad()).abs().sum().item<double>() > 1e-9;
    reached += moved;
    EXPECT_TRUE(moved) << p.key();
  }
  EXPECT_EQ(reached, total);
}

TEST(ReleasedCode, SelectsRowsZeroAndOneAndOnlyTrainsTheHead) {
  GPT model = tiny_gpt();
  const auto b = gpt_batch();
  const auto l = released_code_loss(model, b, ProtectedLossOptions().gamma(0.5));
  // Flags [0, 0, 1, 0] as an index tensor: rows 0, 0, 1, 0, never the copyrighted row 2.
  const auto logits = model->forward(b.x).detach();
  const auto rows = torch::tensor({0, 0, 1, 0}, torch::kInt64);
  const auto ce_rows = torch::nn::functional::cross_entropy(logits.index_select(0, rows).reshape({-1, 16}),
                                                            b.y.index_select(0, rows).reshape({-1}));
  EXPECT_NEAR(l.ce_cp, ce_rows.item<double>(), 1e-5);
  EXPECT_EQ(l.copyrighted_tokens, 32);
  const auto plain = protected_loss(model->forward(b.x), b.y, b.copyrighted, ProtectedLossOptions().gamma(0));
  EXPECT_NEAR(l.ce_all, plain.ce_all, 1e-5);
  EXPECT_NEAR(l.loss.item<double>(), l.ce_all + 0.5 / l.ce_cp, 1e-4);
  // The gamma term's gradient: the tied head (wte) only.
  model->zero_grad();
  l.loss.backward();
  std::map<std::string, torch::Tensor> with;
  for (const auto& p : model->named_parameters()) with[p.key()] = p.value().grad().clone();
  model->zero_grad();
  plain.loss.backward();
  for (const auto& p : model->named_parameters()) {
    const double diff = (with[p.key()] - p.value().grad()).abs().sum().item<double>();
    if (p.key() == "wte.weight") EXPECT_GT(diff, 1e-6);
    else EXPECT_LT(diff, 1e-7) << p.key();
  }
}

TEST(ReleasedCode, UntiedHeadWorksToo) {
  GPT model = tiny_gpt(false);
  const auto l = released_code_loss(model, gpt_batch(), ProtectedLossOptions().gamma(0.5));
  EXPECT_TRUE(std::isfinite(l.loss.item<double>()));
}

}  // namespace
}  // namespace lmlab::copyright
