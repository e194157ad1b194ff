// Extraction audit (P10, arXiv 2308.12247: a protected model should not reproduce its copyrighted
// training text; the audit is ours [ours], in the manner of verbatim-extraction tests): for each
// document, the model continues a prefix greedily and the continuation is compared with the
// document's true continuation.
//   prompt       = kDocumentSeparator + text[0, prefix)      (as the document follows another in
//                                                             the training stream)
//   truth        = text[prefix, prefix + continuation)
//   continuation = `continuation` greedy (argmax) tokens after the prompt
//   exact match  : continuation == truth
//   LCS fraction : longest common substring of continuation and truth / continuation
// Run it on copyrighted training documents, on the other training documents and on unseen
// documents: memorisation is what the first two show beyond the third. Documents shorter than
// prefix + continuation bytes are skipped (counted); the first max_documents long enough are used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmlab/models/gpt.h"

namespace lmlab::copyright {

struct ExtractionOptions {
  TORCH_ARG(int64_t, prefix) = 32;          // bytes, >= 1
  TORCH_ARG(int64_t, continuation) = 32;    // bytes, >= 1
  TORCH_ARG(int64_t, max_documents) = 64;   // >= 1
};

struct ExtractionExample {
  std::string prefix, truth, continuation;
  int64_t lcs = 0;
  bool exact = false;
};

struct ExtractionResult {
  int64_t documents = 0;         // audited
  int64_t skipped = 0;           // too short
  double exact_match_rate = 0;   // fraction of audited documents
  double lcs_fraction = 0;       // mean over audited documents
  std::vector<ExtractionExample> examples;  // one per audited document, in order
};

// UsageError naming the value unless every option is >= 1.
void check_extraction_options(const ExtractionOptions& options);

// The audit of `texts`. UsageError when no document is long enough.
ExtractionResult extraction_audit(GPT& model, const std::vector<std::string>& texts, const ExtractionOptions& options);

// Length of the longest common substring (contiguous) of a and b, in bytes.
int64_t longest_common_substring(const std::string& a, const std::string& b);

}  // namespace lmlab::copyright
