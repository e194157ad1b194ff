// NTK-Attention (lmlab/ntk_attention/ntk_attention.h): the exact identities of NOTES P2, the fused
// kernel against the composed LibTorch formula (forward, backward, double backward), the composed
// formula against finite differences in double precision, extreme scores and bad input.
//
// Float tolerances: entries are O(1), scores O(sqrt(D)); the fused and composed paths round
// differently (tiled sums over S keys and D dims, vector exp), each within ~ (S + D) 2^-24 relative
// per output; 1e-4 absolute on O(1) outputs and 2e-4 relative on gradient norms leave a margin of
// ~10 over (S + D) u for S, D <= 100.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"
#include "support/gradcheck.h"
#include "support/usage_error.h"

using namespace lmlab;
using namespace lmlab::ntk_attention;

namespace {

struct Inputs {
  torch::Tensor q, k, v, z, kappa;
};

Inputs random_inputs(int64_t b, int64_t h, int64_t t, int64_t s, int64_t d, torch::Dtype dtype,
                     uint64_t seed) {
  torch::manual_seed(seed);
  const auto o = torch::TensorOptions().dtype(dtype);
  return {torch::randn({b, h, t, d}, o), torch::randn({b, h, s, d}, o), torch::randn({b, h, s, d}, o),
          torch::randn({h, d, d}, o) * 0.5, torch::rand({h, d}, o) * 2};
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Attention over [prefix; input] where prefix keys get the weight phi(q).phi(p) instead of
// e^{q.p/sqrt(D)}: the explicit-prefix definition, written without ntk_attention's code.
torch::Tensor explicit_prefix_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        const torch::Tensor& pk, const torch::Tensor& pv, bool causal) {
  const int64_t t = q.size(2), s = k.size(2), d = q.size(3);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(d));
  if (causal) scores = scores.masked_fill(torch::ones({t, s}, torch::kBool).triu(s - t + 1), -INFINITY);
  const double r = std::pow(static_cast<double>(d), 0.25);
  const auto phi_q = torch::elu(q / r) + 1, phi_p = torch::elu(pk / r) + 1;          // pk [H,m,D]
  const auto w = torch::cat({torch::exp(scores), torch::matmul(phi_q, phi_p.transpose(-2, -1))}, -1);
  const auto values = torch::cat({v, pv.unsqueeze(0).expand({q.size(0), -1, -1, -1})}, 2);
  return torch::matmul(w / w.sum(-1, true), values);
}

}  // namespace

TEST(NtkAttention, ZeroStateEqualsSoftmaxAttention) {
  for (bool causal : {false, true}) {
    auto in = random_inputs(2, 3, 33, 40, 17, torch::kFloat, 1);
    const auto z = torch::zeros_like(in.z), kappa = torch::zeros_like(in.kappa);
    const auto want = composed_attention(in.q, in.k, in.v, causal);
    EXPECT_LT(max_abs_diff(fused_ntk_attention(in.q, in.k, in.v, z, kappa, causal), want), 1e-5);
    auto dq = in.q.to(torch::kDouble), dk = in.k.to(torch::kDouble), dv = in.v.to(torch::kDouble);
    EXPECT_LT(max_abs_diff(composed_ntk_attention(dq, dk, dv, z.to(torch::kDouble), kappa.to(torch::kDouble), causal),
                           composed_attention(dq, dk, dv, causal)),
              1e-13);
  }
}

TEST(NtkAttention, PrefixStateEqualsAttentionOverPrefixAndInput) {
  for (bool causal : {false, true}) {
    auto in = random_inputs(2, 2, 9, 9, 8, torch::kDouble, 2);
    const auto pk = torch::randn({2, 37, 8}, torch::kDouble), pv = torch::randn({2, 37, 8}, torch::kDouble);
    const auto [z, kappa] = ntk_prefix_state(pk, pv);
    const auto want = explicit_prefix_attention(in.q, in.k, in.v, pk, pv, causal);
    EXPECT_LT(max_abs_diff(composed_ntk_attention(in.q, in.k, in.v, z, kappa, causal), want), 1e-12);
    const auto f = [](const torch::Tensor& x) { return x.to(torch::kFloat); };
    EXPECT_LT(max_abs_diff(fused_ntk_attention(f(in.q), f(in.k), f(in.v), f(z), f(kappa), causal), want), 1e-5);
  }
}

TEST(NtkAttention, FusedMatchesComposedForwardAndGradients) {
  struct Shape { int64_t b, h, t, s, d; bool causal; };
  for (const Shape& sh : {Shape{1, 1, 1, 1, 1, false}, Shape{2, 3, 33, 33, 7, true}, Shape{1, 2, 31, 70, 16, true},
                          Shape{2, 1, 65, 65, 64, false}, Shape{1, 2, 5, 64, 17, false}}) {
    const auto in = random_inputs(sh.b, sh.h, sh.t, sh.s, sh.d, torch::kFloat, 3 + sh.t);
    const auto g = torch::randn({sh.b, sh.h, sh.t, sh.d});
    std::vector<torch::Tensor> grads[2];
    torch::Tensor outs[2];
    for (int fused = 0; fused < 2; ++fused) {
      std::vector<torch::Tensor> x;
      for (const auto& t : {in.q, in.k, in.v, in.z, in.kappa}) x.push_back(t.clone().requires_grad_());
      outs[fused] = fused ? fused_ntk_attention(x[0], x[1], x[2], x[3], x[4], sh.causal)
                          : composed_ntk_attention(x[0], x[1], x[2], x[3], x[4], sh.causal);
      grads[fused] = torch::autograd::grad({outs[fused]}, x, {g});
    }
    EXPECT_LT(max_abs_diff(outs[0], outs[1]), 1e-4) << "T=" << sh.t << " S=" << sh.s << " D=" << sh.d;
    const char* names[] = {"q", "k", "v", "Z", "kappa"};
    for (int i = 0; i < 5; ++i)
      EXPECT_LT((grads[0][i] - grads[1][i]).norm().item<double>(), 2e-4 * (1 + grads[0][i].norm().item<double>()))
          << names[i] << " T=" << sh.t << " S=" << sh.s << " D=" << sh.d;
  }
}

// T beyond one query tile (kFlashQueryTile = 128 rows): the fused wrapper splits rows into
// (slice, tile) work items, so T = 129, 200 and 1000 cover a one-row last tile, a partial one and
// many. Against the composed formula in double; the forward bound is the flash kernel's
// (tests/models/flash_attention_test.cpp), 8 (4 D^1.5 + S + 4) u relative to max(1, max|ref|);
// gradients within 2e-4 of their norm as in FusedMatchesComposedForwardAndGradients.
TEST(NtkAttention, FusedMatchesComposedBeyondOneQueryTile) {
  struct Shape { int64_t b, h, t, s, d; bool causal; };
  for (const Shape& sh : {Shape{1, 2, 129, 129, 16, true}, Shape{2, 1, 200, 230, 32, false},
                          Shape{1, 1, 1000, 1000, 8, true}}) {
    const auto in = random_inputs(sh.b, sh.h, sh.t, sh.s, sh.d, torch::kFloat, 5 + sh.t);
    const auto g = torch::randn({sh.b, sh.h, sh.t, sh.d});
    std::vector<torch::Tensor> x, x64;
    for (const auto& t : {in.q, in.k, in.v, in.z, in.kappa}) {
      x.push_back(t.clone().requires_grad_());
      x64.push_back(t.to(torch::kDouble).requires_grad_());
    }
    const auto out = fused_ntk_attention(x[0], x[1], x[2], x[3], x[4], sh.causal);
    const auto want = composed_ntk_attention(x64[0], x64[1], x64[2], x64[3], x64[4], sh.causal);
    const double bound = 8 * (4 * std::pow(sh.d, 1.5) + sh.s + 4) * std::pow(2.0, -24) *
                         std::max(1.0, want.abs().max().item<double>());
    EXPECT_LT(max_abs_diff(out, want), bound) << "T=" << sh.t << " S=" << sh.s << " D=" << sh.d;
    const auto got_grads = torch::autograd::grad({out}, x, {g});
    const auto want_grads = torch::autograd::grad({want}, x64, {g.to(torch::kDouble)});
    const char* names[] = {"q", "k", "v", "Z", "kappa"};
    for (int i = 0; i < 5; ++i) {
      const double err = (got_grads[i].to(torch::kDouble) - want_grads[i]).norm().item<double>();
      EXPECT_LT(err, 2e-4 * (1 + want_grads[i].norm().item<double>())) << names[i] << " T=" << sh.t;
    }
  }
}

TEST(NtkAttention, ComposedGradientsMatchFiniteDifferences) {
  for (bool causal : {false, true}) {
    auto in = random_inputs(2, 2, 5, 5, 4, torch::kDouble, 4);
    for (auto* t : {&in.q, &in.k, &in.v, &in.z, &in.kappa}) t->requires_grad_();
    const auto w = torch::randn({2, 2, 5, 4}, torch::kDouble);
    EXPECT_TRUE(test_support::gradients_match_finite_differences(
        [&] { return (composed_ntk_attention(in.q, in.k, in.v, in.z, in.kappa, causal) * w).sum(); },
        {in.q, in.k, in.v, in.z, in.kappa}, {"q", "k", "v", "Z", "kappa"}));
  }
}

// At kappa = 0 the prefix mass is 0 and the output is plain attention; its gradient in kappa is
// still e^{-lse} phi(q) (...) and must not vanish. kappa >= 0, so the check is one-sided: forward
// differences at step h in double, error O(h).
TEST(NtkAttention, ComposedKappaGradientAtZeroMatchesForwardDifferences) {
  auto in = random_inputs(1, 2, 4, 4, 3, torch::kDouble, 5);
  const auto w = torch::randn({1, 2, 4, 3}, torch::kDouble);
  const auto loss = [&](const torch::Tensor& kappa) {
    return (composed_ntk_attention(in.q, in.k, in.v, in.z, kappa, true) * w).sum();
  };
  const auto kappa = torch::zeros({2, 3}, torch::kDouble).requires_grad_();
  const auto grad = torch::autograd::grad({loss(kappa)}, {kappa})[0];
  const double h = 1e-7;
  for (int64_t i = 0; i < kappa.numel(); ++i) {
    auto bumped = torch::zeros({2, 3}, torch::kDouble);
    bumped.view(-1)[i] = h;
    const double fd = (loss(bumped) - loss(kappa.detach())).item<double>() / h;
    EXPECT_NEAR(grad.view(-1)[i].item<double>(), fd, 1e-5 * (1 + std::abs(fd))) << "kappa entry " << i;
  }
  EXPECT_GT(grad.abs().max().item<double>(), 1e-3);  // not the blocked 0
}

TEST(NtkAttention, CoreGradientsThroughSoftplusMatchFiniteDifferences) {
  torch::manual_seed(5);
  NtkAttention core(2, 4, NtkAttentionOptions().kappa_init(0.3).z_init_std(0.5));
  core.to(torch::kDouble);
  auto in = random_inputs(1, 2, 6, 6, 4, torch::kDouble, 5);
  EXPECT_EQ(core.named_parameters().size(), 2u);
  EXPECT_TRUE(test_support::gradients_match_finite_differences(
      [&] { return core.forward(in.q, in.k, in.v, true).pow(2).sum(); },
      {core.named_parameters()["Z"], core.named_parameters()["k"]}, {"Z", "k"}));
  // k starts where softplus(k) = kappa_init, and moves (its gradient is not zero at the start).
  EXPECT_NEAR(core.kappa().mean().item<double>(), 0.3, 1e-6);  // k was rounded to float
}

// With Z = 0 at the start, every row is the backbone's softmax attention scaled by
// E / (E + kappa_init sum_d phi(q)_d), E = sum_j e^{s_ij}: the whole deviation from the backbone,
// written out independently, in double (composed) and float (fused).
TEST(NtkAttention, CoreStartsAsSoftmaxAttentionScaledByTheInitialPrefixMass) {
  for (double kappa_init : {1e-4, 1e-2, 0.3})
    for (auto dtype : {torch::kDouble, torch::kFloat}) {
      torch::manual_seed(7);
      NtkAttention core(3, 16, NtkAttentionOptions().kappa_init(kappa_init));
      core.to(dtype);
      const auto in = random_inputs(2, 3, 9, 9, 16, dtype, 7);
      const auto q = in.q.to(torch::kDouble), k = in.k.to(torch::kDouble), v = in.v.to(torch::kDouble);
      auto scores = torch::matmul(q, k.transpose(-2, -1)) / 4.0;
      scores = scores.masked_fill(torch::ones({9, 9}, torch::kBool).triu(1), -INFINITY);
      const auto e = torch::exp(scores).sum(-1, true);
      const double kappa = core.kappa().max().item<double>();  // kappa_init rounded to float
      EXPECT_NEAR(kappa, kappa_init, 1e-6 * kappa_init);
      EXPECT_EQ(core.kappa().min().item<double>(), kappa);
      const auto mass = kappa * (torch::elu(q / 2.0) + 1).sum(-1, true);  // D^(1/4) = 2
      const auto want = composed_attention(q, k, v, true) * e / (e + mass);
      const double tol = dtype == torch::kDouble ? 1e-12 : 1e-5;
      EXPECT_LT(max_abs_diff(core.forward(in.q, in.k, in.v, true), want), tol) << kappa_init;
      // The relative shrink is largest at the first causal row (E = one term; here E < 1 in some rows).
      const double shrink = (mass / (e + mass)).max().item<double>();
      if (kappa_init == 1e-4) {
        EXPECT_LT(shrink, 1e-2);  // measured 0.3% (double), 0.6% (float inputs)
      }
      if (kappa_init == 1e-2) {
        EXPECT_GT(shrink, 0.1);  // the default: measured 23% and 37%
      }
    }
}

TEST(NtkAttention, FusedDoubleBackwardMatchesComposed) {
  const auto in = random_inputs(1, 2, 20, 20, 8, torch::kFloat, 6);
  torch::Tensor second[2];
  for (int fused = 0; fused < 2; ++fused) {
    auto q = in.q.clone().requires_grad_(), z = in.z.clone().requires_grad_();
    const auto out = fused ? fused_ntk_attention(q, in.k, in.v, z, in.kappa, true)
                           : composed_ntk_attention(q, in.k, in.v, z, in.kappa, true);
    const auto gq = torch::autograd::grad({out.pow(2).sum()}, {q}, {}, true, /*create_graph=*/true)[0];
    second[fused] = torch::autograd::grad({gq.pow(2).sum()}, {z})[0];
  }
  EXPECT_GT(second[0].norm().item<double>(), 1e-3);
  EXPECT_LT((second[0] - second[1]).norm().item<double>(), 1e-4 * second[0].norm().item<double>());
}

// Scores of +-1e4: the released code's exp(max) overflows or drops the prefix term; ours must
// follow the double-precision log-domain reference.
TEST(NtkAttention, ExtremeScoresKeepThePrefixTerm) {
  const int64_t d = 16;
  auto in = random_inputs(1, 1, 8, 8, d, torch::kFloat, 7);
  in.k = torch::zeros_like(in.k);
  in.k.select(-1, 0).fill_(1.0);  // every key is e_0, so every score is q_i0 / sqrt(D)
  for (double score : {-1e4, -100.0, 100.0, 1e4}) {
    auto q = in.q.clone();
    q.select(-1, 0).fill_(score * std::sqrt(static_cast<double>(d)));
    const auto out = fused_ntk_attention(q, in.k, in.v, in.z, in.kappa, false);
    ASSERT_TRUE(torch::isfinite(out).all().item<bool>()) << "score " << score;
    const auto f64 = [](const torch::Tensor& x) { return x.to(torch::kDouble); };
    const auto want = composed_ntk_attention(f64(q), f64(in.k), f64(in.v), f64(in.z), f64(in.kappa), false);
    EXPECT_LT(max_abs_diff(out, want), 1e-4) << "score " << score;
    if (score < 0) {  // the keys' mass vanishes: out = phi(q)^T Z / phi(q)^T kappa, the prefix alone
      const auto u = ntk_feature_map(f64(q));
      const auto prefix = torch::matmul(u, f64(in.z)) / (u * f64(in.kappa)).sum(-1, true);
      EXPECT_LT(max_abs_diff(out, prefix), 1e-4) << "score " << score;
    }
  }
}

TEST(NtkAttention, ResultsDoNotDependOnTheThreadCount) {
  const auto in = random_inputs(2, 4, 70, 70, 16, torch::kFloat, 8);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = fused_ntk_attention(in.q, in.k, in.v, in.z, in.kappa, true);
  at::set_num_threads(std::max(2, threads));
  const auto many = fused_ntk_attention(in.q, in.k, in.v, in.z, in.kappa, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, many));
}

TEST(NtkAttention, DispatchFallsBackToComposedForMasksAndDoubles) {
  auto in = random_inputs(1, 2, 6, 6, 4, torch::kFloat, 9);
  const auto mask = torch::rand({6, 6}) > 0.3;
  auto with_diagonal = mask.logical_or(torch::eye(6, torch::kBool));
  EXPECT_LT(max_abs_diff(ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, in.kappa, false, with_diagonal),
                         composed_ntk_attention(in.q, in.k, in.v, in.z, in.kappa, false, with_diagonal)),
            0.0 + 1e-7);
  EXPECT_LT(max_abs_diff(ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, in.kappa, true),
                         fused_ntk_attention(in.q, in.k, in.v, in.z, in.kappa, true)),
            1e-7);
}

TEST(NtkAttention, BadInputIsAUsageError) {
  const auto in = random_inputs(1, 2, 6, 6, 4, torch::kFloat, 10);
  auto expect_error = [](const std::function<void()>& f, const std::string& part) {
    EXPECT_MENTIONS(test_support::usage_error(f), part);
  };
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, torch::zeros({2, 5, 5}), in.kappa, false); }, "Z must be [H,D,D]");
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, torch::zeros({2, 5}), false); }, "kappa must be [H,D]");
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, -in.kappa - 1, false); }, "kappa must be >= 0");
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, in.kappa, false, torch::ones({6, 5}, torch::kBool)); },
               "the mask must be boolean");
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, in.kappa, false, torch::ones({3, 6, 6}, torch::kBool)); },
               "the mask must be boolean");
  expect_error([&] { ntk_attention::ntk_attention(in.q, in.k, in.v, in.z, in.kappa, false, torch::ones({6, 6})); },
               "the mask must be boolean");
  auto nan_q = in.q.clone();
  nan_q[0][1][2][3] = NAN;
  expect_error([&] { ntk_attention::ntk_attention(nan_q, in.k, in.v, in.z, in.kappa, false); }, "q holds NaN");
  auto inf_z = in.z.clone();
  inf_z[1][0][0] = INFINITY;
  expect_error([&] { fused_ntk_attention(in.q, in.k, in.v, inf_z, in.kappa, false); }, "Z holds NaN or Inf");
  expect_error([&] { fused_ntk_attention(in.q.to(torch::kDouble), in.k, in.v, in.z, in.kappa, false); },
               "float32 CPU");
  expect_error([&] { ntk_prefix_state(torch::zeros({2, 0, 4}), torch::zeros({2, 0, 4})); }, "m = 0");
  expect_error([&] { NtkAttention(2, 4, NtkAttentionOptions().kappa_init(0)); }, "kappa_init");
  // Found by the pyargs fuzz target.
  expect_error([&] { ntk_feature_map(torch::tensor(1.0f)); }, "ntk_feature_map needs");
  expect_error([&] { ntk_feature_map(torch::ones({2, 3}, torch::kLong)); }, "ntk_feature_map needs");
  expect_error([&] { NtkAttention(int64_t{1} << 30, int64_t{1} << 20); }, "would need about");
  expect_error([&] { ntk_attention::ntk_attention(in.q.to(torch::kBool), in.k, in.v, in.z, in.kappa, false); },
               "one floating-point dtype");
  expect_error([&] { composed_ntk_attention(in.q, in.k, in.v.to(torch::kDouble), in.z, in.kappa, false); },
               "one floating-point dtype");
}
