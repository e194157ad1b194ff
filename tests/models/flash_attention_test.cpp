// flash_attention and composed_attention (lmlab/models/flash_attention.h): the fused kernel against
// the composed LibTorch formula (forward, backward, double backward), the closed-form composed
// backward against autograd, thread-count independence and bad input.
//
// Tolerances: the kernels' float32 bound (tests/kernels/flash_attention_test.cpp) for entries in
// [-2, 2): scores up to 4 sqrt(D), |v| <= 2, so |out error| <= 8 (4 D^1.5 + S + 4) u, and D times
// that (times max(1, |reference|)) for gradients; the reference runs in double.
// Double-precision comparisons (the closed-form backward against autograd) use 1e-10.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"
#include "support/usage_error.h"

using namespace lmlab;

namespace {

struct QKV {
  torch::Tensor q, k, v;
};
QKV random_qkv(int64_t b, int64_t h, int64_t t, int64_t s, int64_t d,
               torch::Dtype dtype = torch::kFloat) {
  torch::manual_seed(b * 1000 + t * 10 + d);
  auto o = torch::TensorOptions().dtype(dtype);
  return {torch::rand({b, h, t, d}, o) * 4 - 2, torch::rand({b, h, s, d}, o) * 4 - 2,
          torch::rand({b, h, s, d}, o) * 4 - 2};
}

constexpr double kU = 1.0 / (1 << 24);

double max_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

struct Case {
  int64_t b, h, t, s, d;
  bool causal;
  double bound() const { return 8 * (4 * std::pow(d, 1.5) + s + 4) * kU; }
};
const Case kCases[] = {{2, 3, 37, 37, 64, true},  {1, 2, 100, 100, 16, false},
                       {2, 1, 5, 70, 24, true},    {1, 1, 1, 200, 64, true},
                       {3, 2, 65, 130, 7, false},  {1, 4, 33, 33, 128, true},
                       {1, 2, 260, 300, 32, true}};

TEST(FlashAttention, ForwardEqualsComposed) {
  for (const Case& c : kCases) {
    auto [q, k, v] = random_qkv(c.b, c.h, c.t, c.s, c.d);
    const auto want = composed_attention(q.to(torch::kDouble), k.to(torch::kDouble),
                                         v.to(torch::kDouble), c.causal);
    EXPECT_LT(max_error(flash_attention(q, k, v, c.causal), want), c.bound())
        << "T=" << c.t << " S=" << c.s << " D=" << c.d << " causal=" << c.causal;
  }
}

TEST(FlashAttention, NonContiguousInputsAsFromMultiHeadProjections) {
  // q, k, v as MultiHeadAttention makes them: [B,T,H,D] views transposed to [B,H,T,D].
  torch::manual_seed(4);
  auto x = torch::rand({2, 19, 3, 3, 16}) * 4 - 2;  // [B,T,(q|k|v),H,D]
  auto q = x.select(2, 0).transpose(1, 2), k = x.select(2, 1).transpose(1, 2),
       v = x.select(2, 2).transpose(1, 2);
  ASSERT_FALSE(q.is_contiguous());
  EXPECT_LT(max_error(flash_attention(q, k, v, true),
                      composed_attention(q.to(torch::kDouble), k.to(torch::kDouble),
                                         v.to(torch::kDouble), true)),
            (Case{2, 3, 19, 19, 16, true}.bound()));
}

TEST(FlashAttention, BackwardEqualsComposedAutograd) {
  for (const Case& c : kCases) {
    auto [q, k, v] = random_qkv(c.b, c.h, c.t, c.s, c.d);
    const auto g = torch::rand({c.b, c.h, c.t, c.d}) * 2 - 1;
    std::vector<torch::Tensor> fused, want;
    for (bool flash : {true, false}) {
      auto leaves = flash ? std::vector<torch::Tensor>{q, k, v}
                          : std::vector<torch::Tensor>{q.to(torch::kDouble), k.to(torch::kDouble),
                                                       v.to(torch::kDouble)};
      for (auto& x : leaves) x = x.detach().requires_grad_();
      auto out = flash ? flash_attention(leaves[0], leaves[1], leaves[2], c.causal)
                       : composed_attention(leaves[0], leaves[1], leaves[2], c.causal);
      (flash ? fused : want) = torch::autograd::grad({out}, leaves, {g.to(out.scalar_type())});
    }
    for (int i = 0; i < 3; ++i) {
      const double scale = std::max(1.0, want[i].abs().max().item<double>());
      EXPECT_LT(max_error(fused[i], want[i]), c.bound() * c.d * scale)
          << "d" << "qkv"[i] << ", T=" << c.t << " S=" << c.s << " D=" << c.d;
    }
  }
}

TEST(ComposedAttention, ClosedFormBackwardEqualsAutograd) {
  for (bool causal : {false, true}) {
    auto [q, k, v] = random_qkv(2, 2, 6, 9, 5, torch::kDouble);
    for (auto* x : {&q, &k, &v}) x->requires_grad_();
    const auto g = torch::randn({2, 2, 6, 5}, torch::kDouble);
    const auto want = torch::autograd::grad({composed_attention(q, k, v, causal)}, {q, k, v}, {g});
    const auto got = composed_attention_backward(q, k, v, g, causal);
    for (int i = 0; i < 3; ++i) EXPECT_LT(max_error(got[i], want[i]), 1e-10) << i;
  }
}

TEST(FlashAttention, DoubleBackwardEqualsComposed) {
  // F = ||dL/dq||^2 + ||dL/dk||^2 + ||dL/dv||^2 for L = sum(out * w); dF/d(q, k, v) needs the
  // backward's own graph: the fused path must switch to the differentiable formulas.
  auto [q0, k0, v0] = random_qkv(1, 2, 9, 12, 8);
  const auto w = torch::rand({1, 2, 9, 8}) - 0.5;
  std::vector<std::vector<torch::Tensor>> results;
  for (bool flash : {true, false}) {
    std::vector<torch::Tensor> x{q0.clone().requires_grad_(), k0.clone().requires_grad_(),
                                 v0.clone().requires_grad_()};
    auto out = flash ? flash_attention(x[0], x[1], x[2], true) : composed_attention(x[0], x[1], x[2], true);
    auto g = torch::autograd::grad({(out * w).sum()}, x, {}, true, /*create_graph=*/true);
    auto f = g[0].pow(2).sum() + g[1].pow(2).sum() + g[2].pow(2).sum();
    results.push_back(torch::autograd::grad({f}, x));
  }
  for (int i = 0; i < 3; ++i) {
    const double scale = std::max(1.0, results[1][i].abs().max().item<double>());
    EXPECT_GT(results[1][i].abs().max().item<double>(), 1e-3) << "vacuous second derivative " << i;
    // Both sides are LibTorch float32 formulas of the same derivatives, summed in other orders.
    EXPECT_LT(max_error(results[0][i], results[1][i]), 1e-4 * scale) << i;
  }
}

TEST(FlashAttention, SameBitsOnOneAndTwoThreads) {
  auto [q, k, v] = random_qkv(2, 3, 150, 150, 32);
  for (auto* x : {&q, &k, &v}) x->requires_grad_();
  const int before = torch::get_num_threads();
  std::vector<std::vector<torch::Tensor>> runs;
  for (int threads : {1, 2}) {
    torch::set_num_threads(threads);
    auto out = flash_attention(q, k, v, true);
    auto g = torch::autograd::grad({out.pow(2).sum()}, {q, k, v});
    runs.push_back({out, g[0], g[1], g[2]});
  }
  torch::set_num_threads(before);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(torch::equal(runs[0][i], runs[1][i])) << i;
}

TEST(ExactAttention, FallsBackToComposedForOtherDtypes) {
  auto [q, k, v] = random_qkv(1, 2, 7, 7, 4, torch::kDouble);
  EXPECT_TRUE(torch::equal(exact_attention(q, k, v, true), composed_attention(q, k, v, true)));
  auto [qf, kf, vf] = random_qkv(1, 2, 7, 7, 4);
  EXPECT_TRUE(torch::equal(exact_attention(qf, kf, vf, false), flash_attention(qf, kf, vf, false)));
}

TEST(FlashAttention, BadInputIsAUsageError) {
  auto [q, k, v] = random_qkv(1, 2, 7, 7, 4);
  auto expect_error = [](const std::function<void()>& f, const std::string& part) {
    EXPECT_MENTIONS(test_support::usage_error(f), part);
  };
  auto nan_k = k.clone();
  nan_k[0][1][3][2] = NAN;
  expect_error([&] { flash_attention(q, nan_k, v, false); }, "k holds NaN or Inf");
  auto inf_q = q.clone();
  inf_q[0][0][0][0] = INFINITY;
  expect_error([&] { flash_attention(inf_q, k, v, false); }, "q holds NaN or Inf");
  expect_error([&] { flash_attention(q.to(torch::kDouble), k, v, false); }, "float32 CPU");
  expect_error([&] { flash_attention(q, k.narrow(3, 0, 3), v, false); }, "shapes disagree");
  expect_error([&] { flash_attention(q[0], k, v, false); }, "[B,H,T,D]");
  expect_error([&] { flash_attention(q, k.narrow(2, 0, 3), v.narrow(2, 0, 3), true); },
               "at least as many keys");
  expect_error([&] { flash_attention(q, k.narrow(2, 0, 0), v.narrow(2, 0, 0), false); },
               "at least one key");
}

// composed_attention (and exact_attention's fallback) multiplied whatever it got: mixed or integer
// dtypes were raw LibTorch errors (the `pyargs` fuzz target's finding).
TEST(ComposedAttention, MixedOrIntegerDtypesAreUsageErrors) {
  auto [q, k, v] = random_qkv(1, 2, 3, 3, 4);
  const auto message = [](const std::function<void()>& f) { return test_support::usage_error(f); };
  EXPECT_MENTIONS(message([&] { composed_attention(q.to(torch::kDouble), k, v, false); }), "one floating-point dtype");
  EXPECT_MENTIONS(message([&] { exact_attention(q, k, v.to(torch::kLong), false); }), "one floating-point dtype");
  EXPECT_MENTIONS(message([&] { exact_attention(q.to(torch::kLong), k.to(torch::kLong), v.to(torch::kLong), true); }),
                  "one floating-point dtype");
}

}  // namespace
