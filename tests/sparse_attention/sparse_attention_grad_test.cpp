// Sparse attention gradients (lmlab/sparse_attention/sparse_attention.h) against finite differences in double, the
// custom backward against autograd through the composed gathered_attention, the composed fallback
// for second-order gradients, and bad input.
#include <gtest/gtest.h>

#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/core/error.h"
#include "support/gradcheck.h"

using namespace lmlab;
using namespace lmlab::sparse_attention;
using lmlab::test_support::gradients_match_finite_differences;

namespace {

struct Inputs {
  torch::Tensor q, k, v, w;  // w: weights of the scalar loss sum(out * w)
};

Inputs inputs(int64_t t, int64_t s, uint64_t seed) {
  torch::manual_seed(seed);
  const auto o = torch::TensorOptions().dtype(torch::kDouble);
  return {(torch::randn({2, 2, t, 4}, o) * 1.5).requires_grad_(), torch::randn({2, 2, s, 4}, o).requires_grad_(),
          torch::randn({2, 2, s, 3}, o).requires_grad_(), torch::randn({2, 2, t, 3}, o)};
}

std::vector<SparseAttentionOptions> cases() {
  return {SparseAttentionOptions().k(3), SparseAttentionOptions().k(4).causal(true),
          SparseAttentionOptions().selection(Selection::Mass).eps(0.2),
          SparseAttentionOptions().selection(Selection::Mass).eps(0.3).causal(true)};
}

}  // namespace

TEST(SparseAttentionGrad, MatchesFiniteDifferences) {
  // The kept sets do not change under a 1e-5 step: the score gaps of random inputs are far larger.
  for (const SparseAttentionOptions& o : cases()) {
    Inputs x = inputs(6, 9, 1);
    auto f = [&] { return (sparse_attention::sparse_attention(x.q, x.k, x.v, o).out * x.w).sum(); };
    lmlab::test_support::GradCheckOptions check;
    check.entries = 6;
    EXPECT_TRUE(gradients_match_finite_differences(f, {x.q, x.k, x.v}, {"q", "k", "v"}, check))
        << "causal " << o.causal() << ", selection " << static_cast<int>(o.selection());
  }
}

TEST(SparseAttentionGrad, CustomBackwardEqualsAutogradThroughGatheredAttention) {
  for (const SparseAttentionOptions& o : cases()) {
    Inputs x = inputs(7, 11, 2);
    const SparseAttentionResult r = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
    const auto custom = torch::autograd::grad({(r.out * x.w).sum()}, {x.q, x.k, x.v});
    const torch::Tensor composed_out = gathered_attention(x.q, x.k, x.v, r.indices, 0.5);
    EXPECT_TRUE(torch::allclose(r.out, composed_out, 0, 1e-12));
    const auto composed = torch::autograd::grad({(composed_out * x.w).sum()}, {x.q, x.k, x.v});
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(custom[i], composed[i], 0, 1e-12)) << i;
  }
}

TEST(SparseAttentionGrad, OnlyTheInputsThatRequireGradGetOne) {
  Inputs x = inputs(5, 8, 3);
  const torch::Tensor q = x.q.detach(), k = x.k.detach();
  const torch::Tensor out = sparse_attention::sparse_attention(q, k, x.v, SparseAttentionOptions().k(2)).out;
  const auto g = torch::autograd::grad({(out * x.w).sum()}, {x.v});
  EXPECT_TRUE(g[0].defined() && g[0].abs().sum().item<double>() > 0);
  // Without grad mode no graph is built.
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions().k(2)).out.requires_grad());
}

TEST(SparseAttentionGrad, SecondOrderUsesTheComposedFallback) {
  // d/d(q,k,v) of <dL/dq, u>: with create_graph the backward differentiates gathered_attention.
  // Checked against finite differences of the first-order gradient, and against the same second
  // derivative taken through gathered_attention directly.
  for (const SparseAttentionOptions& o : {cases()[1], cases()[2]}) {
    Inputs x = inputs(5, 7, 4);
    const torch::Tensor u = torch::randn_like(x.q);
    auto grad_dot = [&](bool through_kernel) {
      torch::Tensor out = through_kernel ? sparse_attention::sparse_attention(x.q, x.k, x.v, o).out
                                         : gathered_attention(x.q, x.k, x.v, sparse_attention::sparse_attention(x.q, x.k, x.v, o).indices, 0.5);
      const auto dq = torch::autograd::grad({(out * x.w).sum()}, {x.q}, {}, true, /*create_graph=*/true);
      return (dq[0] * u).sum();
    };
    lmlab::test_support::GradCheckOptions check;
    check.entries = 5;
    EXPECT_TRUE(gradients_match_finite_differences([&] { return grad_dot(true); }, {x.q, x.k, x.v}, {"q", "k", "v"}, check));
    const auto kernel = torch::autograd::grad({grad_dot(true)}, {x.q, x.k, x.v});
    const auto composed = torch::autograd::grad({grad_dot(false)}, {x.q, x.k, x.v});
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(kernel[i], composed[i], 0, 1e-12)) << i;
  }
}

TEST(SparseAttentionGrad, Float32NonContiguousInputsMatchTheComposedGradient) {
  // The float32 path of the backward on larger rows, with q a transposed (non-contiguous) view.
  torch::manual_seed(5);
  const torch::Tensor q_leaf = torch::randn({1, 600, 1, 64}).requires_grad_(), k = torch::randn({1, 1, 700, 64});
  const torch::Tensor q = q_leaf.transpose(1, 2), v = torch::randn({1, 1, 700, 64}).requires_grad_();
  const SparseAttentionResult r = sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(150));
  const torch::Tensor w = torch::randn_like(r.out);
  const auto custom = torch::autograd::grad({(r.out * w).sum()}, {q_leaf, v});
  const auto composed =
      torch::autograd::grad({(gathered_attention(q, k, v, r.indices, 0.125) * w).sum()}, {q_leaf, v});
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(torch::allclose(custom[i], composed[i], 1e-4, 1e-5)) << i;
}

TEST(SparseAttention, BadInput) {
  const torch::Tensor q = torch::randn({1, 2, 4, 8}), k = torch::randn({1, 2, 6, 8}), v = torch::randn({1, 2, 6, 3});
  const SparseAttentionOptions ok = SparseAttentionOptions().k(2);
  auto message_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  // k larger than n, k < 1.
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(7)), UsageError);
  EXPECT_NE(message_of([&] { sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(7)); }).find("larger than the number of keys n = 6"),
            std::string::npos);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(0)), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(-3)), UsageError);
  // eps outside (0, 1).
  for (double eps : {0.0, 1.0, -0.5, 2.0})
    EXPECT_THROW(sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().selection(Selection::Mass).eps(eps)), UsageError)
        << eps;
  // D mismatch, key counts, B/H mismatch, wrong ranks, dtypes.
  EXPECT_NE(message_of([&] { sparse_attention::sparse_attention(q, torch::randn({1, 2, 6, 7}), v, ok); }).find("head dim D of q (8)"),
            std::string::npos);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, torch::randn({1, 2, 5, 3}), ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q, torch::randn({1, 3, 6, 8}), v, ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q[0], k, v, ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k.unsqueeze(0), v, ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, v.flatten(), ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q.to(torch::kDouble), k, v, ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q.to(torch::kInt), k.to(torch::kInt), v.to(torch::kInt), ok), UsageError);
  EXPECT_THROW(sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(2).scale(-1)), UsageError);
  // Causal with more queries than keys.
  EXPECT_THROW(sparse_attention::sparse_attention(torch::randn({1, 2, 7, 8}), k, v, SparseAttentionOptions().k(2).causal(true)), UsageError);
  // NaN / Inf in q, k, v: DataError naming the tensor.
  for (int which = 0; which < 3; ++which)
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
      std::vector<torch::Tensor> x = {q.clone(), k.clone(), v.clone()};
      x[which].view({-1})[1] = bad;
      EXPECT_THROW(sparse_attention::sparse_attention(x[0], x[1], x[2], ok), DataError) << which << " " << bad;
      const std::string msg = message_of([&] { sparse_attention::sparse_attention(x[0], x[1], x[2], ok); });
      EXPECT_NE(msg.find(std::string(1, "qkv"[which]) + " holds NaN or Inf"), std::string::npos) << msg;
    }
  // gathered_attention checks its indices, and (the `pyargs` fuzz target's finding: a raw LibTorch
  // error before) q, k and v as sparse_attention does.
  EXPECT_THROW(gathered_attention(q, k, v, torch::zeros({1, 2, 4}, torch::kLong), 1.0), UsageError);
  const torch::Tensor indices = torch::zeros({1, 2, 4, 2}, torch::kLong);
  EXPECT_THROW(gathered_attention(q[0][0], k, v, indices, 1.0), UsageError);
  EXPECT_THROW(gathered_attention(q, k[0], v, indices, 1.0), UsageError);
  EXPECT_THROW(gathered_attention(q, k, v.to(torch::kDouble), indices, 1.0), UsageError);
  EXPECT_THROW(gathered_attention(q, k, v, indices, NAN), UsageError);
  EXPECT_EQ(gathered_attention(q, k, v, indices, 1.0).sizes(), torch::IntArrayRef({1, 2, 4, 3}));
}
