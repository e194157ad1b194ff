// Marked training text, protected training, tau_CE and the extraction audit
// (lmlab/copyright/{marked_corpus,protected_trainer,marked_cross_entropy,extraction_audit}.h).
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/copyright/extraction_audit.h"
#include "lmlab/copyright/marked_corpus.h"
#include "lmlab/copyright/marked_cross_entropy.h"
#include "lmlab/copyright/protected_trainer.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/tokenizer.h"
#include "support/usage_error.h"

namespace lmlab::copyright {
namespace {

using test_support::usage_error;

TEST(MarkCopyrighted, MarksTheRoundedFractionDeterministically) {
  const auto a = mark_copyrighted(50, 0.2, 7), b = mark_copyrighted(50, 0.2, 7), c = mark_copyrighted(50, 0.2, 8);
  EXPECT_EQ(std::count(a.begin(), a.end(), true), 10);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto half = mark_copyrighted(7, 0.5, 0);  // round(3.5) = 4
  EXPECT_EQ(std::count(half.begin(), half.end(), true), 4);
}

TEST(MarkCopyrighted, FractionOutsideTheOpenIntervalOrAnEmptySetIsAUsageError) {
  for (const double p : {0.0, 1.0, -0.1, 1.5, std::nan("")})
    EXPECT_MENTIONS(usage_error([&] { mark_copyrighted(10, p, 0); }), "must be in (0, 1)");
  EXPECT_MENTIONS(usage_error([&] { mark_copyrighted(3, 0.1, 0); }), "both sets must be non-empty");
  EXPECT_MENTIONS(usage_error([&] { mark_copyrighted(3, 0.9, 0); }), "both sets must be non-empty");
}

TEST(MarkedTextStream, MaskFollowsTheDocumentsAndTheWindows) {
  // Copyrighted text is all 'a', the other all 'b': the mask must equal (byte == 'a') everywhere.
  const MarkedTextStream s({"aaaaaaaaaa", "bbbbbbbbbbbb", "aaaaaaa"}, {true, false, true});
  EXPECT_EQ(s.size(), 3 + 10 + 3 + 12 + 3 + 7);
  EXPECT_TRUE(torch::equal(s.mask(), s.tokens() == 'a'));
  EXPECT_EQ(s.copyrighted_tokens(), 17);
  torch::Generator g = make_generator(3);
  const auto b = s.sample(16, 6, g);
  EXPECT_EQ(b.x.sizes(), torch::IntArrayRef({16, 6}));
  EXPECT_TRUE(torch::equal(b.copyrighted, b.y == 'a'));
  EXPECT_TRUE(torch::equal(b.x.slice(1, 1), b.y.slice(1, 0, 5)));
  int64_t covered = 0, marked = 0;
  for (const auto& e : s.eval_batches(4, 6)) {
    EXPECT_TRUE(torch::equal(e.copyrighted, e.y == 'a'));
    covered += e.y.numel(), marked += e.copyrighted.sum().item<int64_t>();
  }
  EXPECT_EQ(covered, s.size() - 1);
  EXPECT_EQ(marked, 17);
}

TEST(MarkedTextStream, BadInputIsAUsageError) {
  EXPECT_MENTIONS(usage_error([] { MarkedTextStream({}, {}); }), "at least one document");
  EXPECT_MENTIONS(usage_error([] { MarkedTextStream({"a", "b"}, {true}); }), "one copyrighted flag per document");
  const MarkedTextStream s({"abc"}, {true});
  torch::Generator g = make_generator(0);
  EXPECT_MENTIONS(usage_error([&] { s.sample(2, 8, g); }), "longer than context + 1");
}

TEST(ExtractionAudit, LongestCommonSubstring) {
  EXPECT_EQ(longest_common_substring("abcde", "xbcdy"), 3);
  EXPECT_EQ(longest_common_substring("abc", "xyz"), 0);
  EXPECT_EQ(longest_common_substring("", "abc"), 0);
  EXPECT_EQ(longest_common_substring("aaaa", "aa"), 2);
}

GPT tiny_gpt() {
  torch::manual_seed(0);
  return GPT(GPTOptions().context(24).layers(1).heads(2).width(32));
}

LMTrainOptions quick_training(int64_t steps) {
  LMTrainOptions o;
  o.batch = 16, o.lr = 1e-2, o.warmup = 20, o.steps = steps, o.cosine = false;
  return o;
}

const std::vector<std::string> kTexts = {"the quick brown fox jumps over the lazy dog",
                                         "pack my box with five dozen liquor jugs"};

constexpr int kSteps = 300;

TEST(ExtractionAudit, FindsTextAModelHasMemorised) {
  torch::set_num_threads(1);  // tiny tensors: threads only contend
  // Two short documents trained to memorisation: greedy continuation reproduces them; the audit of
  // an unseen text does not match it.
  GPT model = tiny_gpt();
  const MarkedTextStream data(kTexts, {true, false});
  ProtectedTrainer trainer(model, quick_training(kSteps), ProtectedTrainingOptions().loss(ProtectedLossOptions().gamma(0)), 1);
  for (int i = 0; i < kSteps; ++i) trainer.step(data);
  const auto opt = ExtractionOptions().prefix(12).continuation(16);
  const auto seen = extraction_audit(model, kTexts, opt);
  EXPECT_EQ(seen.documents, 2);
  EXPECT_EQ(seen.exact_match_rate, 1.0) << seen.examples[0].continuation << "|" << seen.examples[1].continuation;
  EXPECT_EQ(seen.lcs_fraction, 1.0);
  EXPECT_EQ(seen.examples[0].truth, "own fox jumps ov");
  EXPECT_EQ(seen.examples[0].continuation, seen.examples[0].truth);
  const auto unseen = extraction_audit(model, {"sphinx of black quartz, judge my vow"}, opt);
  EXPECT_EQ(unseen.exact_match_rate, 0.0);
  EXPECT_LT(unseen.lcs_fraction, 0.5);
  // The examples are the model's own greedy output.
  const ByteTokenizer tok;
  const auto direct = model->generate(tok.encode("\n%\n" + kTexts[1].substr(0, 12)).unsqueeze(0), 16, 0.0);
  EXPECT_EQ(tok.decode(direct[0].slice(0, 15)), seen.examples[1].continuation);

  // Protection: the same training with gamma on the first (copyrighted) document keeps the model
  // from reproducing it, while the other is still learned; tau_CE rises.
  GPT guarded = tiny_gpt();
  ProtectedTrainer protected_trainer(guarded, quick_training(kSteps),
                                     ProtectedTrainingOptions().loss(ProtectedLossOptions().gamma(1.0)), 1);
  for (int i = 0; i < kSteps; ++i) protected_trainer.step(data);
  const auto audit = extraction_audit(guarded, kTexts, opt);
  EXPECT_FALSE(audit.examples[0].exact);
  EXPECT_TRUE(audit.examples[1].exact);
  EXPECT_GT(marked_cross_entropy(guarded, data).tau(), marked_cross_entropy(model, data).tau() + 0.5);
}

TEST(ExtractionAudit, ShortDocumentsAreSkippedAndBadOptionsRefused) {
  GPT model = tiny_gpt();
  const auto r = extraction_audit(model, {"short", kTexts[0], kTexts[1]}, ExtractionOptions().prefix(8).continuation(8).max_documents(1));
  EXPECT_EQ(r.documents, 1);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.examples.size(), 1u);
  EXPECT_EQ(r.examples[0].continuation.size(), 8u);
  EXPECT_MENTIONS(usage_error([&] { extraction_audit(model, {"short"}, {}); }), "none of the 1 documents");
  EXPECT_MENTIONS(usage_error([&] { extraction_audit(model, kTexts, ExtractionOptions().prefix(0)); }), "prefix");
  EXPECT_MENTIONS(usage_error([&] { extraction_audit(model, kTexts, ExtractionOptions().max_documents(0)); }),
                  "max_documents");
}

TEST(MarkedCrossEntropy, SplitsTheStreamCrossEntropyByTheMask) {
  GPT model = tiny_gpt();
  const MarkedTextStream data(kTexts, {true, false});
  const auto m = marked_cross_entropy(model, data);
  EXPECT_EQ(m.copyrighted_tokens + m.other_tokens, data.size() - 1);
  EXPECT_EQ(m.copyrighted_tokens, static_cast<int64_t>(kTexts[0].size()));
  const double all = (m.ce_cp * m.copyrighted_tokens + m.ce_rest * m.other_tokens) / (data.size() - 1);
  EXPECT_NEAR(m.ce_all, all, 1e-9);
  EXPECT_DOUBLE_EQ(m.tau(), m.ce_cp - m.ce_rest);
  EXPECT_NEAR(m.perplexity(), std::exp(m.ce_all), 1e-9);
  EXPECT_NEAR(m.ce_all, std::log(256.0), 0.2);  // an untrained byte model is near uniform
}

TEST(ProtectedTrainer, RefusesTextWithoutCopyrightAndBadOptions) {
  GPT model = tiny_gpt();
  ProtectedTrainer trainer(model, quick_training(10), {}, 0);
  const MarkedTextStream plain(kTexts, {false, false});
  EXPECT_MENTIONS(usage_error([&] { trainer.step(plain); }), "no copyrighted document");
  EXPECT_MENTIONS(usage_error([&] {
                    ProtectedTrainer(model, quick_training(10),
                                     ProtectedTrainingOptions().loss(ProtectedLossOptions().gamma(-0.5)), 0);
                  }),
                  "gamma");
  auto bad = quick_training(10);
  bad.lr = 0;
  EXPECT_MENTIONS(usage_error([&] { ProtectedTrainer(model, bad, {}, 0); }), "lr > 0");
}

TEST(ProtectedTrainer, EmulationLogsTheScaledLoss) {
  GPT model = tiny_gpt();
  ProtectedTrainer trainer(model, quick_training(10), ProtectedTrainingOptions().emulate_released_code(true), 0);
  const auto s = trainer.step(MarkedTextStream(kTexts, {true, false}));
  EXPECT_DOUBLE_EQ(s.logged, s.loss * 65536.0);
  EXPECT_GT(s.loss, s.ce_all);  // the gamma term is in it
}

}  // namespace
}  // namespace lmlab::copyright
