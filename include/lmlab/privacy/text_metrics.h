// Text metrics of gradient-leakage attacks on language models (P6, arXiv 2311.13624; the metrics
// of Deng et al. 2021 TAG): token accuracy and ROUGE-1/2 (Lin 2004) on token ids.
//   token accuracy = fraction of positions where recovered and original tokens are equal
//   ROUGE-n: overlap = sum over distinct n-grams g of min(count_cand(g), count_ref(g));
//     P = overlap / #n-grams(cand), R = overlap / #n-grams(ref), F1 = 2PR / (P + R) (0 when the
//     overlap is 0 or either side has no n-gram).
// Shapes: token tensors [T] or [B,T] int64; batched calls average over the B rows.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lmlab::privacy {

struct RougeScore {
  double precision = 0, recall = 0, f1 = 0;
};

double token_accuracy(const torch::Tensor& recovered, const torch::Tensor& original);

// candidate and reference [T] int64 (lengths may differ); n >= 1.
RougeScore rouge_n(const torch::Tensor& candidate, const torch::Tensor& reference, int64_t n);

// Mean ROUGE-n F1 over the rows of [B,T] candidate and reference (or one row for [T]).
double mean_rouge_f1(const torch::Tensor& candidate, const torch::Tensor& reference, int64_t n);

}  // namespace lmlab::privacy
