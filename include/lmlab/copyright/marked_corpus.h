// Training text with copyrighted documents marked (P10, arXiv 2308.12247, language-model level;
// NOTES.md P10 [ours]): a byte-tokenized stream in which every document, the first included, is
// preceded by kDocumentSeparator (unlike make_token_stream, which only joins: so every document is
// seen after the same context, the one the extraction audit prompts with), and a parallel mask
// that is true on the bytes of copyrighted documents. Separator bytes belong to no document and are never copyrighted. A window's mask is
// that of its targets y, so copyrighted [b,t] says whether predicting y[b,t] is predicting
// copyrighted text. Shapes: stream and mask [N]; x, y [B,T] int64; copyrighted [B,T] bool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab::copyright {

// Marks round(fraction * documents) of `documents` copyrighted, chosen by a permutation drawn from
// a private generator seeded with `seed`. UsageError unless fraction is in (0, 1) and the rounded
// count leaves both sets non-empty (the protected loss needs both).
std::vector<bool> mark_copyrighted(int64_t documents, double fraction, uint64_t seed);

struct MarkedBatch {
  torch::Tensor x;            // [B,T] int64 inputs
  torch::Tensor y;            // [B,T] int64 targets, x shifted by one token
  torch::Tensor copyrighted;  // [B,T] bool: y[b,t] is a byte of a copyrighted document
};

class MarkedTextStream {
 public:
  // One flag per text. UsageError when the counts differ or there is no text.
  MarkedTextStream(const std::vector<std::string>& texts, const std::vector<bool>& copyrighted);

  int64_t size() const { return tokens_.size(0); }
  const torch::Tensor& tokens() const { return tokens_; }  // [N] int64
  const torch::Tensor& mask() const { return mask_; }      // [N] bool
  // Bytes of copyrighted text in the stream.
  int64_t copyrighted_tokens() const { return mask_.sum().item<int64_t>(); }

  // `batch` windows with start uniform in 0..N-T-1, drawn from `generator` (as TextBatcher::sample).
  MarkedBatch sample(int64_t batch, int64_t context, torch::Generator& generator) const;
  // Non-overlapping windows whose targets cover the stream once, in order (as
  // TextBatcher::eval_batches, whose windows these are).
  std::vector<MarkedBatch> eval_batches(int64_t batch, int64_t context) const;

 private:
  torch::Tensor tokens_, mask_;
};

}  // namespace lmlab::copyright
