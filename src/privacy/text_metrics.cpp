// Text metrics (include/lmlab/privacy/text_metrics.h).
#include "lmlab/privacy/text_metrics.h"

#include <map>
#include <vector>

#include "lmlab/core/error.h"

namespace lmlab::privacy {
namespace {

void check_tokens(const torch::Tensor& t, const char* what) {
  LMLAB_CHECK(t.defined() && !t.is_floating_point() && (t.dim() == 1 || t.dim() == 2), UsageError, what,
              " must be integer token ids [T] or [B,T]");
}

// Counts of the n-grams of one row [T].
std::map<std::vector<int64_t>, int64_t> ngram_counts(const torch::Tensor& row, int64_t n) {
  const auto t = row.to(torch::kLong).contiguous();
  const int64_t* p = t.data_ptr<int64_t>();
  std::map<std::vector<int64_t>, int64_t> counts;
  for (int64_t i = 0; i + n <= t.numel(); ++i) ++counts[std::vector<int64_t>(p + i, p + i + n)];
  return counts;
}

}  // namespace

double token_accuracy(const torch::Tensor& recovered, const torch::Tensor& original) {
  check_tokens(recovered, "recovered tokens");
  check_tokens(original, "original tokens");
  LMLAB_CHECK(recovered.sizes() == original.sizes() && original.numel() > 0, UsageError,
              "token accuracy compares position by position: shapes ", recovered.sizes(), " and ", original.sizes(),
              " must agree and be non-empty");
  return recovered.eq(original).to(torch::kDouble).mean().item<double>();
}

RougeScore rouge_n(const torch::Tensor& candidate, const torch::Tensor& reference, int64_t n) {
  LMLAB_CHECK(n >= 1, UsageError, "ROUGE-n needs n >= 1; got ", n);
  LMLAB_CHECK(candidate.defined() && reference.defined() && candidate.dim() == 1 && reference.dim() == 1 &&
                  !candidate.is_floating_point() && !reference.is_floating_point(),
              UsageError, "rouge_n takes two integer token rows [T]");
  const auto c = ngram_counts(candidate, n), r = ngram_counts(reference, n);
  int64_t overlap = 0, nc = 0, nr = 0;
  for (const auto& [g, k] : c) {
    nc += k;
    const auto it = r.find(g);
    if (it != r.end()) overlap += std::min(k, it->second);
  }
  for (const auto& [g, k] : r) nr += k;
  RougeScore s;
  if (overlap == 0) return s;
  s.precision = static_cast<double>(overlap) / static_cast<double>(nc);
  s.recall = static_cast<double>(overlap) / static_cast<double>(nr);
  s.f1 = 2 * s.precision * s.recall / (s.precision + s.recall);
  return s;
}

double mean_rouge_f1(const torch::Tensor& candidate, const torch::Tensor& reference, int64_t n) {
  check_tokens(candidate, "candidate tokens");
  check_tokens(reference, "reference tokens");
  LMLAB_CHECK(candidate.dim() == reference.dim() && (candidate.dim() == 1 || candidate.size(0) == reference.size(0)),
              UsageError, "candidate ", candidate.sizes(), " and reference ", reference.sizes(),
              " must have the same rows");
  if (candidate.dim() == 1) return rouge_n(candidate, reference, n).f1;
  LMLAB_CHECK(candidate.size(0) >= 1, UsageError, "mean ROUGE needs at least one row");
  double sum = 0;
  for (int64_t b = 0; b < candidate.size(0); ++b) sum += rouge_n(candidate[b], reference[b], n).f1;
  return sum / static_cast<double>(candidate.size(0));
}

}  // namespace lmlab::privacy
