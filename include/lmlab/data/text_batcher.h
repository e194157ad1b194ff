// Language-model batches from a token stream: random training windows and a deterministic pass
// over the whole stream for evaluation, plus the byte-unigram baseline in bits per byte.
//
// Stream: the documents' texts joined by kDocumentSeparator = "\n%\n" (the separator of the
// fortune files themselves, so a topic's stream reads like its source file without the final
// "%" line) and byte-tokenized. The '%' line marks document boundaries unambiguously; a bare
// '\n' would not, since documents contain newlines.
//
// Shapes: stream [N] int64, B batch rows, T context tokens; x, y [B,T] int64 with
// y[b,t] = stream[s_b + t + 1] where x[b,t] = stream[s_b + t].
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "lmlab/data/text_corpus.h"

namespace lmlab {

inline constexpr std::string_view kDocumentSeparator = "\n%\n";

// The texts of `docs` joined by kDocumentSeparator, byte-tokenized: [N] int64.
torch::Tensor make_token_stream(const std::vector<Document>& docs);

struct TokenBatch {
  torch::Tensor x;  // [B,T] int64 inputs
  torch::Tensor y;  // [B,T] int64 targets, x shifted left by one token
};

class TextBatcher {
 public:
  // `stream`: 1-D integer tokens (UsageError otherwise), kept as int64.
  explicit TextBatcher(torch::Tensor stream);
  int64_t size() const { return stream_.size(0); }

  // `batch` windows with start s_b uniform in 0..N-T-1, drawn from `generator`.
  TokenBatch sample(int64_t batch, int64_t context, torch::Generator& generator) const;

  // Consecutive non-overlapping windows whose targets y cover stream[1..N) exactly once, in
  // order: chunk i has x = stream[iT, iT+T), y = stream[iT+1, iT+T+1). Full chunks come in batches
  // of `batch` rows (the last may have fewer); the r = (N-1) mod T targets left over come last as
  // one [1,r] batch. Summing the per-token loss over all batches and dividing by N-1 gives the
  // mean over the stream; the result does not depend on `batch`.
  std::vector<TokenBatch> eval_batches(int64_t batch, int64_t context) const;

 private:
  void check_shape(const char* caller, int64_t batch, int64_t context) const;
  torch::Tensor stream_;
};

// Cross-entropy in bits per byte of an add-one-smoothed byte unigram model estimated on `train`
// and evaluated on every token of `eval`: p(b) = (count_train(b) + 1) / (N_train + 256),
// result = -(1/N_eval) sum_i log2 p(eval_i). Tokens must be bytes 0..255; `eval` non-empty.
double unigram_bits_per_byte(const torch::Tensor& train, const torch::Tensor& eval);

}  // namespace lmlab
