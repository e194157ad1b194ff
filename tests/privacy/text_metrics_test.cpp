// Text metrics (lmlab/privacy/text_metrics.h) against hand-counted n-gram overlaps.
#include <gtest/gtest.h>

#include "lmlab/privacy/text_metrics.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

TEST(TextMetrics, TokenAccuracyIsPositionwise) {
  EXPECT_DOUBLE_EQ(token_accuracy(torch::tensor({{1, 2, 3, 4}, {5, 6, 7, 8}}), torch::tensor({{1, 2, 0, 4}, {6, 5, 7, 8}})),
                   5.0 / 8.0);
}

TEST(TextMetrics, RougeMatchesHandCounts) {
  // candidate "a b a c" vs reference "a b c c d" (a=1, b=2, c=3, d=4).
  const auto cand = torch::tensor({1, 2, 1, 3}), ref = torch::tensor({1, 2, 3, 3, 4});
  // Unigrams: cand {a:2, b:1, c:1}, ref {a:1, b:1, c:2, d:1}: overlap 1 + 1 + 1 = 3; P 3/4, R 3/5.
  const auto r1 = rouge_n(cand, ref, 1);
  EXPECT_DOUBLE_EQ(r1.precision, 0.75);
  EXPECT_DOUBLE_EQ(r1.recall, 0.6);
  EXPECT_NEAR(r1.f1, 2 * 0.75 * 0.6 / 1.35, 1e-12);
  // Bigrams: cand {ab, ba, ac}, ref {ab, bc, cc, cd}: overlap 1; P 1/3, R 1/4, F1 2/7.
  const auto r2 = rouge_n(cand, ref, 2);
  EXPECT_DOUBLE_EQ(r2.precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r2.recall, 0.25);
  EXPECT_NEAR(r2.f1, 2.0 / 7.0, 1e-12);
  // Repeated n-grams are clipped by the reference's count: "a a a" vs "a": P 1/3, R 1.
  EXPECT_NEAR(rouge_n(torch::tensor({1, 1, 1}), torch::tensor({1}), 1).f1, 0.5, 1e-12);
  // No overlap, or no bigram in a one-token row: 0.
  EXPECT_EQ(rouge_n(torch::tensor({1, 2}), torch::tensor({3, 4}), 1).f1, 0.0);
  EXPECT_EQ(rouge_n(torch::tensor({1}), torch::tensor({1}), 2).f1, 0.0);
  // Batched mean over rows.
  EXPECT_NEAR(mean_rouge_f1(torch::stack({torch::tensor({1, 2}), torch::tensor({3, 4})}),
                            torch::stack({torch::tensor({1, 2}), torch::tensor({5, 6})}), 1),
              0.5, 1e-12);
}

TEST(TextMetrics, BadInputIsAUsageError) {
  EXPECT_MENTIONS(test_support::usage_error([] { token_accuracy(torch::tensor({1, 2}), torch::tensor({1})); }),
                  "must agree");
  EXPECT_MENTIONS(test_support::usage_error([] { rouge_n(torch::tensor({1}), torch::tensor({1}), 0); }), "n >= 1");
  EXPECT_MENTIONS(test_support::usage_error([] { token_accuracy(torch::rand({3}), torch::rand({3})); }), "integer");
}

}  // namespace
}  // namespace lmlab::privacy
