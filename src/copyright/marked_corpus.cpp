// Marked training text (include/lmlab/copyright/marked_corpus.h).
#include "lmlab/copyright/marked_corpus.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_batcher.h"

namespace lmlab::copyright {

std::vector<bool> mark_copyrighted(int64_t documents, double fraction, uint64_t seed) {
  LMLAB_CHECK(std::isfinite(fraction) && fraction > 0 && fraction < 1, UsageError,
              "the copyrighted fraction p must be in (0, 1); got ", fraction,
              " (p = 0 leaves nothing to protect, p = 1 nothing to learn from)");
  const auto marked = static_cast<int64_t>(std::llround(fraction * static_cast<double>(documents)));
  LMLAB_CHECK(marked >= 1 && marked < documents, UsageError, "marking p = ", fraction, " of ", documents,
              " documents gives ", marked, " copyrighted; both sets must be non-empty: use more documents or a p "
              "nearer 0.5");
  torch::Generator g = make_generator(seed);
  const auto order = torch::randperm(documents, g, torch::kInt64);
  std::vector<bool> out(static_cast<size_t>(documents), false);
  for (int64_t i = 0; i < marked; ++i) out[static_cast<size_t>(order[i].item<int64_t>())] = true;
  return out;
}

MarkedTextStream::MarkedTextStream(const std::vector<std::string>& texts, const std::vector<bool>& copyrighted) {
  LMLAB_CHECK(!texts.empty(), UsageError, "a marked text stream needs at least one document");
  LMLAB_CHECK(texts.size() == copyrighted.size(), UsageError, "one copyrighted flag per document: got ",
              texts.size(), " documents and ", copyrighted.size(), " flags");
  std::string joined;
  std::vector<uint8_t> flags;
  for (size_t i = 0; i < texts.size(); ++i) {
    joined += kDocumentSeparator;
    flags.insert(flags.end(), kDocumentSeparator.size(), 0);
    joined += texts[i];
    flags.insert(flags.end(), texts[i].size(), copyrighted[i] ? 1 : 0);
  }
  std::vector<int64_t> bytes(joined.begin(), joined.end());
  for (auto& b : bytes) b &= 0xff;
  tokens_ = torch::tensor(bytes, torch::kInt64);
  mask_ = torch::from_blob(flags.data(), {static_cast<int64_t>(flags.size())}, torch::kUInt8).to(torch::kBool);
}

MarkedBatch MarkedTextStream::sample(int64_t batch, int64_t context, torch::Generator& generator) const {
  LMLAB_CHECK(batch >= 1 && context >= 1 && size() > context + 1, UsageError, "sampling ", batch,
              " windows of ", context, " tokens needs batch, context >= 1 and a stream longer than context + 1 (",
              size(), " tokens)");
  const auto starts = torch::randint(0, size() - context, {batch}, generator, torch::kInt64);
  const auto idx = starts.unsqueeze(1) + torch::arange(context + 1, torch::kInt64).unsqueeze(0);  // [B,T+1]
  const auto window = tokens_.index({idx});
  return {window.slice(1, 0, context), window.slice(1, 1), mask_.index({idx.slice(1, 1)})};
}

std::vector<MarkedBatch> MarkedTextStream::eval_batches(int64_t batch, int64_t context) const {
  // The windows of TextBatcher::eval_batches, over the tokens and over the mask as 0/1 tokens.
  const auto tokens = TextBatcher(tokens_).eval_batches(batch, context);
  const auto masks = TextBatcher(mask_.to(torch::kInt64)).eval_batches(batch, context);
  std::vector<MarkedBatch> out;
  for (size_t i = 0; i < tokens.size(); ++i) out.push_back({tokens[i].x, tokens[i].y, masks[i].y.to(torch::kBool)});
  return out;
}

}  // namespace lmlab::copyright
