// tau_CE of P10 (arXiv 2308.12247): the mean next-token cross-entropy of a language model on the
// copyrighted tokens of its training text minus that on the other tokens (separators included),
//   tau_CE = CE_cp - CE_rest   (nats per token),
// over non-overlapping windows of the model's context (MarkedTextStream::eval_batches), in eval
// mode without gradients (the training mode is restored). The paper's held-out perplexity is
// exp(CE_all) of a text without marks.
#pragma once

#include <cstdint>

#include "lmlab/copyright/marked_corpus.h"
#include "lmlab/models/gpt.h"

namespace lmlab::copyright {

struct MarkedCrossEntropy {
  double ce_cp = 0, ce_rest = 0, ce_all = 0;  // nats per token; NaN for an empty set
  int64_t copyrighted_tokens = 0, other_tokens = 0;
  double tau() const { return ce_cp - ce_rest; }
  double perplexity() const;  // exp(ce_all), per byte with the byte tokenizer
};

// Over the first max_batches evaluation batches of 64 windows (0: all).
MarkedCrossEntropy marked_cross_entropy(GPT& model, const MarkedTextStream& stream, int64_t max_batches = 0);

}  // namespace lmlab::copyright
