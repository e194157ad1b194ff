// Sparse attention forward (lmlab/sparse_attention/sparse_attention.h): k = n equals dense softmax attention (the
// composed SoftmaxAttention), the exact error identity and its bound, the kept sets against
// torch::topk and against k_eps, causal masking, bounded score blocks, determinism, the core inside
// multi-head attention.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include "lmlab/sparse_attention/mass_sparsity.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/models/attention.h"

using namespace lmlab;
using namespace lmlab::sparse_attention;

namespace {

struct Qkv {
  torch::Tensor q, k, v;
};

Qkv random_qkv(int64_t b, int64_t h, int64_t t, int64_t s, int64_t d, int64_t dv, torch::Dtype dtype,
               double q_std = 1.0) {
  torch::manual_seed(b * 1000 + h * 100 + t * 10 + s + d);
  const auto o = torch::TensorOptions().dtype(dtype);
  return {torch::randn({b, h, t, d}, o) * q_std, torch::randn({b, h, s, d}, o), torch::randn({b, h, s, dv}, o)};
}

// Dense p [B,H,T,S] restricted to the kept sets: 1 at kept keys.
torch::Tensor kept_mask(const SparseAttentionResult& r, int64_t s) {
  torch::Tensor mask = torch::zeros({r.indices.size(0), r.indices.size(1), r.indices.size(2), s + 1}, torch::kDouble);
  mask.scatter_(3, r.indices.where(r.indices >= 0, torch::full_like(r.indices, s)), 1.0);
  return mask.narrow(3, 0, s);
}

}  // namespace

TEST(TopKAttention, KEqualNIsDenseSoftmaxAttention) {
  for (bool causal : {false, true}) {
    for (auto [t, s] : {std::pair<int64_t, int64_t>{7, 7}, {5, 9}}) {
      const Qkv x = random_qkv(2, 3, t, s, 8, 5, torch::kFloat);
      const SparseAttentionResult r =
          sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions().k(s).causal(causal));
      const torch::Tensor dense = torch::matmul(SoftmaxAttention::probabilities(x.q, x.k, causal), x.v);
      EXPECT_TRUE(torch::allclose(r.out, dense, 1e-5, 1e-6)) << "causal " << causal << ", T " << t << ", S " << s;
      // Every visible key kept: row i of a causal map sees S - T + i + 1 keys.
      const torch::Tensor visible = causal ? torch::arange(s - t + 1, s + 1).expand({2, 3, t}) : torch::full({2, 3, t}, s);
      EXPECT_TRUE(torch::equal(r.kept, visible.to(torch::kLong)));
    }
  }
}

TEST(TopKAttention, ErrorIdentityAndBoundHoldExactly) {
  // Attn - Attn_H = tau (mu_tail - mu_head) and ||Attn - Attn_H|| <= 2 tau max_j ||v_j||, per row, in
  // double; q scaled up so that the tail mass is far from 0 and 1.
  for (bool causal : {false, true}) {
    const int64_t t = 12, s = 40;
    const Qkv x = random_qkv(2, 2, t, s, 6, 4, torch::kDouble, 2.0);
    const SparseAttentionResult r =
        sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions().k(5).causal(causal).tail_mass(true));
    const torch::Tensor p = SoftmaxAttention::probabilities(x.q, x.k, causal);
    const torch::Tensor head = kept_mask(r, s), dense = torch::matmul(p, x.v);
    const torch::Tensor tau = (p * (1 - head)).sum(-1);
    EXPECT_TRUE(torch::allclose(r.tail_mass, tau, 0, 1e-12));
    ASSERT_GT(tau.min().item<double>(), 1e-3);
    const torch::Tensor mu_tail = torch::matmul(p * (1 - head), x.v) / tau.unsqueeze(-1);
    const torch::Tensor mu_head = torch::matmul(p * head, x.v) / (1 - tau).unsqueeze(-1);
    const torch::Tensor err = dense - r.out;
    EXPECT_TRUE(torch::allclose(err, tau.unsqueeze(-1) * (mu_tail - mu_head), 0, 1e-12));
    const double vmax = x.v.norm(2, -1).max().item<double>();
    EXPECT_TRUE((err.norm(2, -1) <= 2 * tau * vmax).all().item<bool>());
  }
}

TEST(TopKAttention, KeepsTheTopKScoresLargestFirst) {
  const Qkv x = random_qkv(1, 2, 6, 50, 4, 3, torch::kDouble);
  const SparseAttentionResult r = sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions().k(7));
  const torch::Tensor scores = torch::matmul(x.q, x.k.transpose(-2, -1)) / 2.0;
  const auto [values, indices] = scores.topk(7, -1, /*largest=*/true, /*sorted=*/true);
  EXPECT_TRUE(torch::equal(r.indices, indices));
  EXPECT_TRUE(torch::equal(r.kept, torch::full({1, 2, 6}, 7, torch::kLong)));
  EXPECT_FALSE(r.tail_mass.defined());  // TopK computes tau only on request
}

TEST(TopKAttention, LongRowsMatchTorchTopkWhateverTheScoreOrder) {
  // Rows much longer than k take the sampled-threshold path: random scores, scores rising along the
  // row (every sampled threshold is passed by the row's tail), falling, and scores with heavy ties
  // (few distinct values; ties go to the smaller position) or two peaks over zeros (fewer than k
  // scores above the sampled threshold: every score is a candidate), each against torch::topk of the same scores (stable sort: ties by position).
  const int64_t s = 3000, kk = 9;
  const torch::Tensor v = torch::randn({1, 1, s, 2}, torch::kDouble);
  const torch::Tensor key = torch::randn({1, 1, s, 1}, torch::kDouble);
  const torch::Tensor ramp = torch::linspace(-1, 1, s, torch::kDouble).view({1, 1, s, 1});
  torch::Tensor two_peaks = torch::zeros({1, 1, s, 1}, torch::kDouble);
  two_peaks[0][0][5][0] = 1, two_peaks[0][0][1700][0] = 1;  // fewer than k scores above any sampled threshold
  for (const torch::Tensor& k : {key, ramp, -ramp, (key * 2).round(), two_peaks}) {
    const torch::Tensor q = torch::tensor({1.0, 0.5, -2.0}, torch::kDouble).view({1, 1, 3, 1});
    const SparseAttentionResult r = sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(kk));
    const torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1));
    const torch::Tensor order = std::get<1>(scores.sort(/*stable=*/true, -1, /*descending=*/true));
    EXPECT_TRUE(torch::equal(r.indices, order.narrow(-1, 0, kk))) << r.indices << order.narrow(-1, 0, kk);
  }
}

TEST(MassSelection, KeepsExactlyTheFewestEntriesReachingOneMinusEps) {
  for (bool causal : {false, true}) {
    const int64_t t = 16, s = 30;
    const Qkv x = random_qkv(2, 2, t, s, 5, 3, torch::kDouble, 1.5);
    const double eps = 0.2;
    const SparseAttentionResult r =
        sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions().selection(Selection::Mass).eps(eps).causal(causal));
    const torch::Tensor p = SoftmaxAttention::probabilities(x.q, x.k, causal);
    EXPECT_TRUE(torch::equal(r.kept, k_eps_from_probabilities(p, eps)));
    const torch::Tensor kept = (p * kept_mask(r, s)).sum(-1);
    EXPECT_TRUE((kept >= 1 - eps).all().item<bool>());
    // Without its smallest kept entry no row reaches 1 - eps: the set is the fewest.
    const torch::Tensor last = r.indices.gather(3, (r.kept - 1).unsqueeze(-1));
    EXPECT_TRUE((kept - p.gather(3, last).squeeze(-1) < 1 - eps).all().item<bool>());
    // The kept entries are the largest: the smallest kept p is >= the largest dropped p.
    const torch::Tensor head = kept_mask(r, s);
    const torch::Tensor smallest_kept = p.masked_fill(head == 0, 2.0).amin(-1);
    const torch::Tensor largest_dropped = p.masked_fill(head == 1, -1.0).amax(-1);
    EXPECT_TRUE((smallest_kept >= largest_dropped).all().item<bool>());
    EXPECT_TRUE(torch::allclose(r.tail_mass, 1 - kept, 0, 1e-12));
  }
}

TEST(SparseAttention, CausalRowsIgnoreFutureKeys) {
  const int64_t t = 10, s = 10;
  Qkv x = random_qkv(1, 2, t, s, 4, 4, torch::kDouble);
  const SparseAttentionOptions o = SparseAttentionOptions().k(3).causal(true);
  const SparseAttentionResult before = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
  // Keys and values after position 5 change: rows 0..5 must not.
  x.k.narrow(2, 6, 4).mul_(-3).add_(5);
  x.v.narrow(2, 6, 4).add_(100);
  const SparseAttentionResult after = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
  EXPECT_TRUE(torch::equal(before.out.narrow(2, 0, 6), after.out.narrow(2, 0, 6)));
  // Row i keeps only keys <= i (and all of them while i + 1 <= k).
  const torch::Tensor row = torch::arange(t).view({1, 1, t, 1});
  EXPECT_TRUE(((after.indices <= row) | (after.indices == -1)).all().item<bool>());
  EXPECT_TRUE(torch::equal(after.kept[0][0], torch::tensor({1, 2, 3, 3, 3, 3, 3, 3, 3, 3}, torch::kLong)));
}

TEST(SparseAttention, ScoreBlocksOfAnySizeGiveTheSameResult) {
  for (Selection sel : {Selection::TopK, Selection::Mass}) {
    const Qkv x = random_qkv(1, 2, 13, 21, 4, 4, torch::kFloat);
    const SparseAttentionOptions o = SparseAttentionOptions().selection(sel).k(4).eps(0.3).causal(true);
    const SparseAttentionResult whole = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
    for (int64_t rows : {1, 5, 13}) {
      const SparseAttentionResult blocks = sparse_attention::sparse_attention(x.q, x.k, x.v, SparseAttentionOptions(o).block_rows(rows));
      EXPECT_TRUE(torch::equal(whole.out, blocks.out)) << rows;
      EXPECT_TRUE(torch::equal(whole.indices, blocks.indices)) << rows;
    }
  }
}

TEST(SparseAttention, DeterministicAcrossCallsAndThreadCounts) {
  const Qkv x = random_qkv(2, 2, 64, 64, 8, 8, torch::kFloat);
  const int threads = at::get_num_threads();
  for (Selection sel : {Selection::TopK, Selection::Mass}) {
    const SparseAttentionOptions o = SparseAttentionOptions().selection(sel).k(8).eps(0.1).block_rows(16);
    at::set_num_threads(1);
    const SparseAttentionResult one = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
    at::set_num_threads(2);
    const SparseAttentionResult two = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
    const SparseAttentionResult again = sparse_attention::sparse_attention(x.q, x.k, x.v, o);
    EXPECT_TRUE(torch::equal(one.out, two.out) && torch::equal(two.out, again.out));
    EXPECT_TRUE(torch::equal(one.indices, two.indices));
  }
  at::set_num_threads(threads);
}

TEST(SparseAttention, TiedScoresKeepTheEarlierKey) {
  // All scores equal (q = 0): top-2 keeps keys 0 and 1, and the output is their mean.
  const torch::Tensor q = torch::zeros({1, 1, 1, 2}), k = torch::randn({1, 1, 5, 2});
  const torch::Tensor v = torch::arange(5, torch::kFloat).view({1, 1, 5, 1});
  const SparseAttentionResult r = sparse_attention::sparse_attention(q, k, v, SparseAttentionOptions().k(2));
  EXPECT_TRUE(torch::equal(r.indices.view({2}), torch::tensor({0, 1}, torch::kLong)));
  EXPECT_FLOAT_EQ(r.out.item<float>(), 0.5f);
}

TEST(SparseAttentionCore, PlugsIntoMultiHeadAttention) {
  torch::manual_seed(3);
  MultiHeadAttention dense(MultiHeadAttentionOptions(16, 2));
  torch::manual_seed(3);
  MultiHeadAttention sparse(
      MultiHeadAttentionOptions(16, 2).core(std::make_shared<SparseAttentionCore>(SparseAttentionOptions().k(9))));
  const torch::Tensor x = torch::randn({2, 9, 16});
  EXPECT_TRUE(torch::allclose(dense(x, true), sparse(x, true), 1e-5, 1e-6));
  const auto top2 = std::make_shared<SparseAttentionCore>(SparseAttentionOptions().k(2));
  torch::manual_seed(3);
  MultiHeadAttention pruned(MultiHeadAttentionOptions(16, 2).core(top2));
  EXPECT_FALSE(torch::allclose(pruned(x, true), dense(x, true), 1e-3, 1e-3));
}
