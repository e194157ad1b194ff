// StreamingAttention against the batch formula composed in LibTorch, (phi1 Q)(phi2 K)^T V over its
// normaliser (bidirectional and causal, any split of the stream and any chunk size), against exact
// softmax attention within the stated error bound, state bytes independent of n, the output sketch,
// determinism, and every refusal.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "lmlab/streaming_attention/streaming_attention.h"
#include "support/usage_error.h"

using namespace lmlab;
using namespace lmlab::streaming_attention;
using lmlab::test_support::usage_error;

namespace {

constexpr int64_t kDim = 4;
constexpr double kBound = 1.5;

StreamingAttentionOptions options(int64_t chunk = 0) {
  return StreamingAttentionOptions(kDim).entry_bound(kBound).polynomial(ExpPolynomialOptions().max_rel_error(1e-4)).chunk(
      chunk);
}

// Tokens with entries uniform in [-B, B], float64.
torch::Tensor tokens(int64_t n, int64_t seed) {
  torch::manual_seed(seed);
  return (torch::rand({n, kDim}, torch::kDouble) * 2 - 1) * kBound;
}

// The batch polynomial attention composed from the same feature maps, with the n x n matrix.
torch::Tensor batch_polynomial(const PolynomialFeatures& f, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, bool causal) {
  torch::Tensor a = f.phi1(q).mm(f.phi2(k).t());
  if (causal) a = a.tril();
  return a.mm(v) / a.sum(1, true);
}

torch::Tensor exact_softmax(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale) {
  const torch::Tensor w = (q.mm(k.t()) * scale).exp();
  return w.mm(v) / w.sum(1, true);
}

// Sums of n = 300 terms of size <= max|v| in another order: a rounding difference far below 1e-12.
constexpr double kOrderTolerance = 1e-12;

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(StreamingAttention, EqualsTheBatchFormulaForAnySplitAndChunk) {
  const torch::Tensor k = tokens(300, 1), v = tokens(300, 2), q = tokens(50, 3);
  for (int64_t chunk : {0, 1, 16, 1000}) {
    StreamingAttention s(options(chunk));
    int64_t begin = 0;
    for (int64_t piece : {1, 7, 100, 192}) {
      s.push(k.slice(0, begin, begin + piece), v.slice(0, begin, begin + piece));
      begin += piece;
    }
    EXPECT_EQ(s.tokens(), 300);
    const torch::Tensor want = batch_polynomial(s.features(), q, k, v, false);
    EXPECT_LE(max_diff(s.query(q), want), kOrderTolerance) << "chunk " << chunk;
    EXPECT_LE(max_diff(s.query(q[7]), want.slice(0, 7, 8)), kOrderTolerance) << "one query, chunk " << chunk;
  }
}

TEST(StreamingAttention, CausalInterleavedEqualsTheCausalBatchFormula) {
  const torch::Tensor q = tokens(100, 4), k = tokens(100, 5), v = tokens(100, 6);
  StreamingAttention s(options()), split(options(5));
  const torch::Tensor want = batch_polynomial(s.features(), q, k, v, true);
  EXPECT_LE(max_diff(s.causal(q, k, v), want), kOrderTolerance);
  const torch::Tensor first = split.causal(q.slice(0, 0, 37), k.slice(0, 0, 37), v.slice(0, 0, 37));
  const torch::Tensor rest = split.causal(q.slice(0, 37), k.slice(0, 37), v.slice(0, 37));
  EXPECT_LE(max_diff(torch::cat({first, rest}), want), kOrderTolerance);
  // After the causal pass the state holds every key: a query sees all of them.
  EXPECT_LE(max_diff(s.query(q.slice(0, 0, 3)), batch_polynomial(s.features(), q.slice(0, 0, 3), k, v, false)),
            kOrderTolerance);
}

TEST(StreamingAttention, ErrorAgainstExactSoftmaxIsWithinTheStatedBound) {
  // Uniform tokens and cube corners (entries +-B: scores reach +-R, where P's error is largest).
  const torch::Tensor corners = torch::sign(tokens(400, 7)) * kBound;
  for (const auto& [k, v, q] : {std::tuple{tokens(400, 8), tokens(400, 9), tokens(64, 10)},
                                std::tuple{corners.slice(0, 0, 200), corners.slice(0, 200, 400), corners.slice(0, 0, 64)}}) {
    StreamingAttention s(options());
    s.push(k, v);
    const double error = max_diff(s.query(q), exact_softmax(q, k, v, 1.0 / kDim));
    EXPECT_LE(error, s.output_error_bound());
    EXPECT_GT(error, 0.0);
  }
  StreamingAttention s(options());
  EXPECT_DOUBLE_EQ(s.score_radius(), kBound * kBound);  // c d B^2 with c = 1/d
}

TEST(StreamingAttention, StateBytesDoNotDependOnTheNumberOfTokens) {
  StreamingAttention s(options().output_sketch(CountSketchOptions(5, 64, kDim)));
  const int64_t t = s.features().feature_dim();
  const int64_t expected = (t * (kDim + 1) + t) * 8 + s.output_sketch()->bytes();
  EXPECT_EQ(s.state_bytes(), expected);
  s.push(tokens(10, 11), tokens(10, 12));
  EXPECT_EQ(s.state_bytes(), expected);
  for (int i = 0; i < 20; ++i) s.push(tokens(500, 13 + i), tokens(500, 40 + i));
  s.query(tokens(1000, 99));
  EXPECT_EQ(s.tokens(), 10010);
  EXPECT_EQ(s.state_bytes(), expected);
}

TEST(StreamingAttention, OutputSketchHoldsTheAnsweredRowsAndDecodesThem) {
  const torch::Tensor q = tokens(200, 14), k = tokens(200, 15), v = tokens(200, 16);
  StreamingAttention s(options().output_sketch(CountSketchOptions::for_guarantee(3, 1.0, 0.01, 200, kDim).seed(9)));
  const torch::Tensor out = s.causal(q, k, v);
  EXPECT_EQ(s.queries(), 200);
  // Every sketched row comes back as the median estimate of itself plus collisions; a sketch fed
  // the same rows directly holds the same table.
  CountSketch direct(CountSketchOptions::for_guarantee(3, 1.0, 0.01, 200, kDim).seed(9));
  direct.add(out, 0);
  EXPECT_TRUE(torch::allclose(direct.table(), s.output_sketch()->table(), 0, 1e-15));
  const SparseColumns y = s.decode(3);
  EXPECT_EQ(y.values.sizes(), (std::vector<int64_t>{3, kDim}));
}

TEST(StreamingAttention, EmptyInputsChangeNothing) {
  StreamingAttention s(options());
  s.push(torch::empty({0, kDim}), torch::empty({0, kDim}));
  EXPECT_EQ(s.tokens(), 0);
  EXPECT_EQ(s.causal(torch::empty({0, kDim}), torch::empty({0, kDim}), torch::empty({0, kDim})).size(0), 0);
  s.push(tokens(5, 30), tokens(5, 31));
  EXPECT_EQ(s.query(torch::empty({0, kDim}, torch::kDouble)).sizes(), (std::vector<int64_t>{0, kDim}));
  EXPECT_EQ(s.queries(), 0);
  EXPECT_EQ(s.tokens(), 5);
}

TEST(StreamingAttention, DeterministicAndFloatInFloatOut) {
  const torch::Tensor q = tokens(64, 17), k = tokens(64, 18), v = tokens(64, 19);
  const auto opts = options().output_sketch(CountSketchOptions(3, 32, kDim).seed(4));
  StreamingAttention a(opts), b(opts);
  EXPECT_TRUE(torch::equal(a.causal(q, k, v), b.causal(q, k, v)));
  EXPECT_TRUE(torch::equal(a.state(), b.state()));
  EXPECT_TRUE(torch::equal(a.output_sketch()->table(), b.output_sketch()->table()));
  const torch::Tensor f = a.query(q.to(torch::kFloat));
  EXPECT_EQ(f.scalar_type(), torch::kFloat);
  EXPECT_LE(max_diff(f.to(torch::kDouble), b.query(q)), 1e-6);
}

TEST(StreamingAttention, BadInputIsRefusedWithClearErrors) {
  StreamingAttention s(options());
  const torch::Tensor k = tokens(8, 20);
  EXPECT_MENTIONS(usage_error([&] { s.query(k); }), "query before any key");
  EXPECT_MENTIONS(usage_error([&] { s.push(torch::zeros({3, 5}), torch::zeros({3, 4})); }), "[3, 5]");
  EXPECT_MENTIONS(usage_error([&] { s.push(k, tokens(7, 21)); }), "8 keys but 7 values");
  torch::Tensor bad = k.clone();
  bad[2][1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_MENTIONS(usage_error([&] { s.push(bad, k); }), "NaN or Inf, the first at token 2, entry 1");
  bad[2][1] = std::numeric_limits<double>::infinity();
  EXPECT_MENTIONS(usage_error([&] { s.push(k, bad); }), "values hold NaN or Inf");
  EXPECT_EQ(s.tokens(), 0);  // nothing was added by the refused calls
  EXPECT_MENTIONS(usage_error([&] { s.push(k * 2, k); }), "above entry_bound B = 1.5");
  s.push(k, k);
  EXPECT_MENTIONS(usage_error([&] { s.query(torch::zeros({2, 3})); }), "pass [m, 4]");
  EXPECT_MENTIONS(usage_error([&] { s.query(bad); }), "queries hold NaN or Inf");
  EXPECT_MENTIONS(usage_error([&] { s.causal(k, k, k.slice(0, 0, 4)); }), "as many queries, keys and values");
  EXPECT_MENTIONS(usage_error([&] { s.decode(1); }), "needs an output sketch");
  EXPECT_MENTIONS(usage_error([&] { s.push(torch::zeros({2, 4}, torch::kInt), k.slice(0, 0, 2)); }),
                  "floating point");

  // Degree too high for memory: d = 16 with relative error 1e-6 needs t = C(16+g, g) > 10^7 features.
  std::string m = usage_error([] {
    StreamingAttention(StreamingAttentionOptions(16).entry_bound(1.5).polynomial(
        ExpPolynomialOptions().max_rel_error(1e-6)));
  });
  EXPECT_MENTIONS(m, "t = C(d+g, g) = ");
  EXPECT_MENTIONS(m, "MiB for S and z");
  EXPECT_MENTIONS(m, "above max_state_bytes = 1024 MiB");
  // Entries too large for the requested error.
  m = usage_error([] { StreamingAttention(StreamingAttentionOptions(4).entry_bound(6).polynomial(
                           ExpPolynomialOptions().max_rel_error(1e-4).max_degree(20))); });
  EXPECT_MENTIONS(m, "[-36, 36]");
  EXPECT_MENTIONS(m, "bound the entries of q and k");
  EXPECT_MENTIONS(usage_error([] { StreamingAttention(options().output_sketch(CountSketchOptions(3, 8, 5))); }),
                  "columns = d = 4");
  EXPECT_MENTIONS(usage_error([] { StreamingAttention(options().output_sketch(CountSketchOptions(0, 8, 4))); }),
                  "rows, buckets and columns >= 1");
  EXPECT_MENTIONS(usage_error([] { StreamingAttention(StreamingAttentionOptions(0)); }), "dim d >= 1");
  EXPECT_MENTIONS(usage_error([] { StreamingAttention(options().scale(-1)); }), "scale must be finite");

  StreamingAttention sketched(options().output_sketch(CountSketchOptions(3, 8, 4)));
  sketched.push(k, k);
  sketched.query(k.slice(0, 0, 5));
  EXPECT_MENTIONS(usage_error([&] { sketched.decode(6); }), "sparsity k = 6 must be in [1, n] with n = 5");
}
