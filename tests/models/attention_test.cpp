// SoftmaxAttention and MultiHeadAttention: equality with hand-written references, causal masking,
// recorded maps, shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/models/attention.h"

using namespace lmlab;

namespace {
// Scalar loops in double: out[b,h,i] = sum_j w_ij v_j / sum_j w_ij, w_ij = exp(q_i.k_j/sqrt(D)),
// j <= i when causal.
torch::Tensor loop_reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             bool causal) {
  auto qa = q.accessor<double, 4>(), ka = k.accessor<double, 4>(), va = v.accessor<double, 4>();
  const int64_t b_n = q.size(0), h_n = q.size(1), t_n = q.size(2), d_n = q.size(3);
  auto out = torch::zeros_like(q);
  auto oa = out.accessor<double, 4>();
  for (int64_t b = 0; b < b_n; ++b)
    for (int64_t h = 0; h < h_n; ++h)
      for (int64_t i = 0; i < t_n; ++i) {
        const int64_t last = causal ? i : t_n - 1;
        double total = 0;
        for (int64_t j = 0; j <= last; ++j) {
          double s = 0;
          for (int64_t d = 0; d < d_n; ++d) s += qa[b][h][i][d] * ka[b][h][j][d];
          const double w = std::exp(s / std::sqrt(static_cast<double>(d_n)));
          total += w;
          for (int64_t d = 0; d < d_n; ++d) oa[b][h][i][d] += w * va[b][h][j][d];
        }
        for (int64_t d = 0; d < d_n; ++d) oa[b][h][i][d] /= total;
      }
  return out;
}

torch::Tensor randn(std::initializer_list<int64_t> shape, torch::Generator& gen) {
  return torch::randn(shape, gen, torch::kDouble);
}
}  // namespace

TEST(SoftmaxAttention, EqualsHandWrittenLoops) {
  auto gen = make_generator(1);
  auto q = randn({2, 3, 5, 4}, gen), k = randn({2, 3, 5, 4}, gen), v = randn({2, 3, 5, 4}, gen);
  SoftmaxAttention attn;
  for (bool causal : {false, true})
    EXPECT_TRUE(torch::allclose(attn.forward(q, k, v, causal), loop_reference(q, k, v, causal), 1e-12, 1e-12))
        << "causal " << causal;
}

TEST(SoftmaxAttention, EqualsStableExpNormalisedMath) {
  auto gen = make_generator(2);
  auto q = randn({1, 2, 6, 8}, gen) * 3, k = randn({1, 2, 6, 8}, gen) * 3, v = randn({1, 2, 6, 8}, gen);
  auto s = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(8.0);
  s = s.masked_fill(torch::ones({6, 6}, torch::kBool).triu(1), -INFINITY);
  auto e = torch::exp(s - std::get<0>(s.max(-1, true)));
  auto expected = torch::matmul(e / e.sum(-1, true), v);
  EXPECT_TRUE(torch::allclose(SoftmaxAttention().forward(q, k, v, true), expected, 1e-12, 1e-12));
}

TEST(SoftmaxAttention, ProbabilitiesAreCausalRowStochasticAndRecorded) {
  auto gen = make_generator(3);
  auto q = randn({2, 2, 4, 3}, gen), k = randn({2, 2, 4, 3}, gen), v = randn({2, 2, 4, 3}, gen);
  auto p = SoftmaxAttention::probabilities(q, k, true);
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{2, 2, 4, 4}));
  EXPECT_TRUE(torch::allclose(p.sum(-1), torch::ones({2, 2, 4}, torch::kDouble)));
  EXPECT_EQ(p.triu(1).abs().sum().item<double>(), 0.0);

  SoftmaxAttention attn;
  attn.forward(q, k, v, true);
  EXPECT_FALSE(attn.last_probabilities().defined());
  attn.record_probabilities(true);
  attn.forward(q, k, v, true);
  EXPECT_TRUE(torch::equal(attn.last_probabilities(), p));
  EXPECT_FALSE(attn.last_probabilities().requires_grad());
}

TEST(SoftmaxAttention, CausalMaskAlignsToLastKeyWhenFewerQueries) {
  auto gen = make_generator(4);
  auto q = randn({1, 1, 5, 3}, gen), k = randn({1, 1, 5, 3}, gen);
  auto full = SoftmaxAttention::probabilities(q, k, true);
  auto last_two = SoftmaxAttention::probabilities(q.slice(2, 3, 5), k, true);
  EXPECT_TRUE(torch::allclose(last_two, full.slice(2, 3, 5), 1e-12, 1e-12));
}

TEST(SoftmaxAttention, BadShapesAreUsageErrors) {
  SoftmaxAttention attn;
  auto x = torch::zeros({1, 2, 3, 4});
  EXPECT_THROW(attn.forward(torch::zeros({2, 3, 4}), x, x, false), UsageError);
  EXPECT_THROW(attn.forward(x, torch::zeros({1, 2, 3, 5}), x, false), UsageError);
  EXPECT_THROW(attn.forward(torch::zeros({1, 2, 4, 4}), x, x, true), UsageError);  // T > S
}

TEST(MultiHeadAttention, ShapesNamesAndWidthCheck) {
  MultiHeadAttention mha(MultiHeadAttentionOptions(12, 3));
  EXPECT_EQ(mha(torch::randn({2, 5, 12}), true).sizes(), (std::vector<int64_t>{2, 5, 12}));
  std::vector<std::string> names;
  for (const auto& p : mha->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"q.weight", "q.bias", "k.weight", "k.bias", "v.weight",
                                             "v.bias", "o.weight", "o.bias"}));
  try {
    MultiHeadAttention(MultiHeadAttentionOptions(10, 4));
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("width 10"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mha(torch::randn({2, 5, 11}), true), UsageError);
}

TEST(MultiHeadAttention, CoreMustReturnBHTD) {
  struct WrongCore : AttentionCore {
    torch::Tensor forward(const torch::Tensor& q, const torch::Tensor&, const torch::Tensor&, bool) override {
      return q.sum(-1);
    }
  };
  MultiHeadAttention mha(MultiHeadAttentionOptions(8, 2).core(std::make_shared<WrongCore>()));
  EXPECT_THROW(mha(torch::randn({1, 3, 8}), false), UsageError);
}
