// Per-example gradients from one backward against one backward per example (autograd::grad of
// each l_i through the same graph), on every layer type lmlab's models use and on the tiny GPT
// and ViT: 1e-5 relative in float32, 1e-10 in float64. Unsupported layers are named.
#include <gtest/gtest.h>

#include <functional>

#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/vit.h"
#include "lmlab/onebit/bit_linear.h"
#include "lmlab/privacy/per_example_grads.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

using Losses = std::function<torch::Tensor()>;  // builds the graph: per-example losses [B]

// One backward per example: the reference.
void expect_matches_loop(torch::nn::Module& m, const Losses& losses, double tol) {
  const PerExampleGrads pe = per_example_gradients(m, losses());
  ASSERT_FALSE(pe.grads.empty());
  std::vector<torch::Tensor> params;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) params.push_back(p);
  EXPECT_EQ(pe.params.size(), params.size()) << "every parameter gets per-example gradients";
  const torch::Tensor l = losses();
  for (int64_t i = 0; i < pe.batch; ++i) {
    const auto ref = torch::autograd::grad({l[i]}, pe.params, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
    for (size_t k = 0; k < pe.params.size(); ++k) {
      const torch::Tensor want = ref[k].defined() ? ref[k] : torch::zeros_like(pe.params[k]);
      const torch::Tensor got = pe.grads[k][i];
      ASSERT_EQ(got.sizes(), want.sizes()) << pe.names[k];
      const double scale = std::max(1.0, want.abs().max().item<double>());
      EXPECT_LE((got - want).abs().max().item<double>(), tol * scale) << pe.names[k] << " example " << i;
    }
  }
}

struct Dtype : ::testing::TestWithParam<torch::Dtype> {
  double tol() const { return GetParam() == torch::kDouble ? 1e-10 : 1e-5; }
  torch::TensorOptions opt() const { return torch::TensorOptions().dtype(GetParam()); }
};

TEST_P(Dtype, LinearOnVectorsAndSequences) {
  torch::manual_seed(1);
  torch::nn::Linear lin(5, 3);
  lin->to(GetParam());
  const auto x2 = torch::randn({4, 5}, opt()), x3 = torch::randn({4, 6, 5}, opt());
  const auto xt = torch::randn({6, 4, 5}, opt()).transpose(0, 1);  // non-contiguous [B,T,in]
  expect_matches_loop(*lin, [&] { return lin(x2).pow(2).sum(1); }, tol());
  expect_matches_loop(*lin, [&] { return lin(x3).sin().sum({1, 2}); }, tol());
  expect_matches_loop(*lin, [&] { return lin(xt).sin().sum({1, 2}); }, tol());
  torch::nn::Linear nobias(torch::nn::LinearOptions(5, 3).bias(false));
  nobias->to(GetParam());
  expect_matches_loop(*nobias, [&] { return nobias(x3).sin().sum({1, 2}); }, tol());
}

TEST_P(Dtype, EmbeddingAndLayerNorm) {
  torch::manual_seed(2);
  torch::nn::Embedding emb(torch::nn::EmbeddingOptions(7, 4).padding_idx(0));
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({4}));
  emb->to(GetParam());
  ln->to(GetParam());
  const auto ids = torch::randint(0, 7, {3, 5}, torch::kLong);
  auto m = std::make_shared<torch::nn::Module>();
  m->register_module("emb", emb);
  m->register_module("ln", ln);
  {
    torch::NoGradGuard g;
    ln->weight.normal_();
    ln->bias.normal_();
  }
  expect_matches_loop(*m, [&] { return ln(emb(ids)).cos().sum({1, 2}); }, tol());
}

TEST_P(Dtype, BitLinearLatentWeights) {
  torch::manual_seed(3);
  MLP mlp(MLPOptions(6, {8}, 2).linear(onebit::bit_linear_factory(onebit::BitLinearOptions(1, 1))));
  mlp->to(GetParam());
  const auto x = torch::randn({5, 6}, opt());
  expect_matches_loop(*mlp, [&] { return mlp(x).pow(2).sum(1); }, tol());
}

TEST_P(Dtype, TinyGPTWithTiedHead) {
  torch::manual_seed(4);
  GPT gpt(GPTOptions().vocab(16).context(8).layers(2).heads(2).width(8));
  gpt->to(GetParam());
  const auto idx = torch::randint(0, 16, {3, 6}, torch::kLong), tgt = torch::randint(0, 16, {3, 6}, torch::kLong);
  expect_matches_loop(*gpt, [&] {
    const auto logits = gpt(idx);
    return torch::nn::functional::cross_entropy(logits.reshape({-1, 16}), tgt.reshape(-1),
                                                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
        .reshape({3, 6}).mean(1);
  }, tol());
}

// A Poisson sample of one example: every broadcast test sees batch 1.
TEST_P(Dtype, TinyGPTBatchOfOne) {
  torch::manual_seed(8);
  GPT gpt(GPTOptions().vocab(16).context(8).layers(1).heads(2).width(8));
  gpt->to(GetParam());
  const auto idx = torch::randint(0, 16, {1, 5}, torch::kLong), tgt = torch::randint(0, 16, {1, 5}, torch::kLong);
  expect_matches_loop(*gpt, [&] {
    return torch::nn::functional::cross_entropy(gpt(idx).reshape({-1, 16}), tgt.reshape(-1)).reshape({1});
  }, tol());
}

TEST_P(Dtype, TinyViT) {
  torch::manual_seed(5);
  ViT vit(ViTOptions().image(8).patch(4).classes(3).layers(2).heads(2).width(8));
  vit->to(GetParam());
  const auto x = torch::randn({4, 1, 8, 8}, opt());
  const auto y = torch::randint(0, 3, {4}, torch::kLong);
  expect_matches_loop(*vit, [&] {
    return torch::nn::functional::cross_entropy(vit(x), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  }, tol());
}

INSTANTIATE_TEST_SUITE_P(PerExampleGrads, Dtype, ::testing::Values(torch::kFloat, torch::kDouble),
                         [](const auto& info) { return info.param == torch::kDouble ? "float64" : "float32"; });

// A layer the machinery does not know: the error names the parameter and the operation.
struct Scaled : torch::nn::Module {
  Scaled() { scale = register_parameter("scale", torch::ones({4})); }
  torch::Tensor forward(const torch::Tensor& x) { return x * scale; }
  torch::Tensor scale;
};

TEST(PerExampleGrads, UnsupportedLayerIsNamed) {
  auto m = std::make_shared<torch::nn::Module>();
  auto s = m->register_module("gate", std::make_shared<Scaled>());
  const auto x = torch::randn({3, 4});
  const std::string msg = test_support::usage_error([&] { per_example_gradients(*m, s->forward(x).sum(1)); });
  EXPECT_MENTIONS(msg, "gate.scale");
  EXPECT_MENTIONS(msg, "MulBackward0");
  // Refused before any hook is installed: the caller's graph still backpropagates as usual.
  auto lin = m->register_module("lin", torch::nn::Linear(4, 4));
  const auto losses = s->forward(lin->forward(x)).sum(1);
  test_support::usage_error([&] { per_example_gradients(*m, losses); });
  losses.sum().backward();
  EXPECT_TRUE(lin->weight.grad().defined() && s->scale.grad().defined());
  torch::nn::Conv1d conv(1, 2, 3);
  const std::string c = test_support::usage_error([&] { per_example_gradients(*conv, conv(torch::randn({2, 1, 5})).sum({1, 2})); });
  EXPECT_MENTIONS(c, "parameter '");
  EXPECT_MENTIONS(c, "Convolution");
}

TEST(PerExampleGrads, LossesMustBeOnePerExample) {
  torch::nn::Linear lin(3, 2);
  const auto x = torch::randn({4, 3});
  EXPECT_MENTIONS(test_support::usage_error([&] { per_example_gradients(*lin, lin(x).sum()); }), "1-D tensor [B]");
  EXPECT_MENTIONS(test_support::usage_error([&] { per_example_gradients(*lin, torch::ones({4})); }), "no autograd graph");
  // Losses of 3 entries over 4 examples: rows do not split.
  EXPECT_MENTIONS(test_support::usage_error([&] { per_example_gradients(*lin, lin(x).sum(1).slice(0, 0, 3)); }),
                  "batch size 3");
}

TEST(PerExampleGrads, NormsSumOverParameters) {
  torch::manual_seed(6);
  torch::nn::Linear lin(3, 2);
  const auto x = torch::randn({4, 3});
  const PerExampleGrads pe = per_example_gradients(*lin, lin(x).sum(1));
  const auto n = per_example_norms(pe);
  for (int64_t i = 0; i < 4; ++i) {
    // d/dW sum_j (W x + b)_j = 1 x^T, d/db = 1: norm^2 = 2 ||x||^2 + 2.
    EXPECT_NEAR(n[i].item<double>(), std::sqrt(2 * x[i].pow(2).sum().item<double>() + 2), 1e-5);
  }
}

}  // namespace
}  // namespace lmlab::privacy
