// Extraction audit (include/lmlab/copyright/extraction_audit.h).
#include "lmlab/copyright/extraction_audit.h"

#include <algorithm>

#include "lmlab/core/error.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/tokenizer.h"

namespace lmlab::copyright {

void check_extraction_options(const ExtractionOptions& o) {
  LMLAB_CHECK(o.prefix() >= 1, UsageError, "extraction audit: prefix must be >= 1 byte; got ", o.prefix());
  LMLAB_CHECK(o.continuation() >= 1, UsageError, "extraction audit: continuation must be >= 1 byte; got ",
              o.continuation());
  LMLAB_CHECK(o.max_documents() >= 1, UsageError, "extraction audit: max_documents must be >= 1; got ",
              o.max_documents());
}

int64_t longest_common_substring(const std::string& a, const std::string& b) {
  std::vector<int64_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  int64_t best = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      best = std::max(best, cur[j]);
    }
    std::swap(prev, cur);
  }
  return best;
}

ExtractionResult extraction_audit(GPT& model, const std::vector<std::string>& texts, const ExtractionOptions& o) {
  check_extraction_options(o);
  const auto p = static_cast<size_t>(o.prefix()), c = static_cast<size_t>(o.continuation());
  ExtractionResult r;
  std::vector<torch::Tensor> prompts;
  const ByteTokenizer tok;
  for (const auto& text : texts) {
    if (text.size() < p + c) { ++r.skipped; continue; }
    if (r.documents >= o.max_documents()) continue;
    ExtractionExample e;
    e.prefix = text.substr(0, p);
    e.truth = text.substr(p, c);
    prompts.push_back(tok.encode(std::string(kDocumentSeparator) + e.prefix));
    r.examples.push_back(std::move(e));
    ++r.documents;
  }
  LMLAB_CHECK(r.documents > 0, UsageError, "extraction audit: none of the ", texts.size(), " documents has the ",
              p + c, " bytes prefix + continuation needs; shorten them or pass longer documents");
  constexpr int64_t kBatch = 64;  // prompts generated together (all of one length)
  for (int64_t start = 0; start < r.documents; start += kBatch) {
    const int64_t end = std::min(r.documents, start + kBatch);
    const auto batch = torch::stack(std::vector<torch::Tensor>(prompts.begin() + start, prompts.begin() + end));
    const auto out = model->generate(batch, o.continuation(), /*temperature=*/0.0);
    for (int64_t i = start; i < end; ++i) {
      auto& e = r.examples[static_cast<size_t>(i)];
      e.continuation = tok.decode(out[i - start].slice(0, batch.size(1)));
      e.exact = e.continuation == e.truth;
      e.lcs = longest_common_substring(e.continuation, e.truth);
      r.exact_match_rate += e.exact;
      r.lcs_fraction += static_cast<double>(e.lcs) / static_cast<double>(c);
    }
  }
  r.exact_match_rate /= static_cast<double>(r.documents);
  r.lcs_fraction /= static_cast<double>(r.documents);
  return r;
}

}  // namespace lmlab::copyright
