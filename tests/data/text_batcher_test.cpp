// Token stream, random and evaluation batches, and the byte-unigram baseline (against a hand
// computation and on the real fortunes validation split).
#include "lmlab/data/text_batcher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/tokenizer.h"

using namespace lmlab;

namespace {

torch::Tensor counting_stream(int64_t n) { return torch::arange(n, torch::kInt64); }

}  // namespace

TEST(TokenStream, JoinsDocumentsWithTheSeparator) {
  const std::vector<Document> docs = {{"t", "one"}, {"t", "two\nlines"}, {"u", "three"}};
  EXPECT_EQ(ByteTokenizer().decode(make_token_stream(docs)), "one\n%\ntwo\nlines\n%\nthree");
  EXPECT_EQ(make_token_stream({}).numel(), 0);
  EXPECT_EQ(make_token_stream({{"t", "solo"}}).numel(), 4);
}

TEST(TextBatcher, SampleGivesWindowsWithTargetsShiftedByOne) {
  const TextBatcher batcher(counting_stream(100));
  torch::Generator g1 = make_generator(3);
  const TokenBatch b = batcher.sample(16, 10, g1);
  EXPECT_EQ(b.x.sizes(), (std::vector<int64_t>{16, 10}));
  EXPECT_EQ(b.y.sizes(), (std::vector<int64_t>{16, 10}));
  EXPECT_EQ(b.x.scalar_type(), torch::kInt64);
  // On the stream 0..99 a window is consecutive integers and y = x + 1.
  EXPECT_TRUE(torch::equal(b.y, b.x + 1));
  EXPECT_TRUE(
      torch::equal(b.x - b.x.select(1, 0).unsqueeze(1), torch::arange(10).expand({16, 10})));
  EXPECT_GE(b.x.min().item<int64_t>(), 0);
  EXPECT_LE(b.y.max().item<int64_t>(), 99);
  torch::Generator g2 = make_generator(3);
  EXPECT_TRUE(torch::equal(batcher.sample(16, 10, g2).x, b.x));  // same seed, same batch
  // The largest context still fits: every window is the whole stream.
  torch::Generator g3 = make_generator(0);
  EXPECT_TRUE(torch::equal(batcher.sample(2, 99, g3).y[1], torch::arange(1, 100)));
}

TEST(TextBatcher, EvalBatchesCoverEveryTargetExactlyOnce) {
  for (int64_t n : {11, 12, 101, 1000}) {
    for (int64_t batch : {1, 3, 8}) {
      const TextBatcher batcher(counting_stream(n));
      std::vector<torch::Tensor> xs, ys;
      for (const TokenBatch& b : batcher.eval_batches(batch, 10)) {
        EXPECT_LE(b.x.size(0), batch);
        EXPECT_TRUE(torch::equal(b.y, b.x + 1));
        xs.push_back(b.x.flatten());
        ys.push_back(b.y.flatten());
      }
      // Concatenated in order, the targets are exactly stream[1..n).
      EXPECT_TRUE(torch::equal(torch::cat(ys), torch::arange(1, n)))
          << "n " << n << " batch " << batch;
      EXPECT_TRUE(torch::equal(torch::cat(xs), torch::arange(0, n - 1)));
    }
  }
  // 101 tokens, context 10: 100 targets fill 10 rows, 3 batches of at most 4 rows, no remainder.
  const std::vector<TokenBatch> even = TextBatcher(counting_stream(101)).eval_batches(4, 10);
  ASSERT_EQ(even.size(), 3u);
  EXPECT_EQ(even[2].x.sizes(), (std::vector<int64_t>{2, 10}));
  // 105 tokens: 104 targets, 10 full rows plus one [1,4] remainder batch.
  const std::vector<TokenBatch> odd = TextBatcher(counting_stream(105)).eval_batches(4, 10);
  ASSERT_EQ(odd.size(), 4u);
  EXPECT_EQ(odd[3].x.sizes(), (std::vector<int64_t>{1, 4}));
}

TEST(TextBatcher, StreamShorterThanContextPlusOneIsDataError) {
  const TextBatcher batcher(counting_stream(10));
  torch::Generator g = make_generator(0);
  EXPECT_NO_THROW(batcher.sample(1, 9, g));
  try {
    batcher.sample(1, 10, g);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 10 tokens, fewer than context + 1 = 11"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(batcher.eval_batches(4, 10), DataError);
  EXPECT_THROW(batcher.eval_batches(0, 4), UsageError);
  EXPECT_THROW(TextBatcher(torch::zeros({2, 5}, torch::kInt64)), UsageError);
  EXPECT_THROW(TextBatcher(torch::zeros({5})), UsageError);  // float tokens
}

TEST(UnigramBaseline, MatchesHandComputedValue) {
  const ByteTokenizer tok;
  // Train "aab": p(a) = (2+1)/(3+256), p(b) = (1+1)/259; eval "ab" averages the two.
  const double expected = -(std::log2(3.0 / 259.0) + std::log2(2.0 / 259.0)) / 2.0;
  EXPECT_NEAR(unigram_bits_per_byte(tok.encode("aab"), tok.encode("ab")), expected, 1e-12);
  // With no training data every byte has probability 1/256: exactly 8 bits.
  EXPECT_DOUBLE_EQ(unigram_bits_per_byte(tok.encode(""), tok.encode("xyz")), 8.0);
  EXPECT_THROW(unigram_bits_per_byte(tok.encode("a"), tok.encode("")), UsageError);
  EXPECT_THROW(unigram_bits_per_byte(torch::tensor({300}, torch::kInt64), tok.encode("a")),
               UsageError);
}

TEST(UnigramBaseline, RealFortunesValidationSplit) {
  if (!std::filesystem::exists("/usr/share/games/fortunes/fortunes")) {
    GTEST_SKIP() << "the Debian package fortunes is not installed";
  }
  const std::vector<Document> docs = load_fortunes("/usr/share/games/fortunes");
  const torch::Tensor train = make_token_stream(select_split(docs, TextSplit::Train));
  const torch::Tensor valid = make_token_stream(select_split(docs, TextSplit::Validation));
  const double bpb = unigram_bits_per_byte(train, valid);
  // Cross-entropy is at least the entropy of the validation bytes' own distribution.
  const torch::Tensor p = torch::bincount(valid, {}, 256).to(torch::kFloat64) / valid.numel();
  const double entropy = -(p * torch::log2(p.clamp_min(1e-300))).sum().item<double>();
  std::cout << "fortunes bytes: train " << train.numel() << ", validation " << valid.numel()
            << "; validation unigram " << bpb << " bits/byte (validation byte entropy " << entropy
            << ")\n";
  EXPECT_GE(bpb, entropy);
  // English text has a letter-unigram entropy near 4.1 bits (Shannon 1951); bytes add case,
  // spaces and punctuation, so the baseline must lie well inside (3.5, 6), far below 8.
  EXPECT_GT(bpb, 3.5);
  EXPECT_LT(bpb, 6.0);
  const TextBatcher batcher(valid);
  int64_t targets = 0;
  for (const TokenBatch& b : batcher.eval_batches(32, 256)) targets += b.y.numel();
  EXPECT_EQ(targets, valid.numel() - 1);
}
