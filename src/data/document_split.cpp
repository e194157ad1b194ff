// Train/validation/test split of documents by a hash of their text
// (include/lmlab/data/text_corpus.h): FNV-1a 64, splitmix64 finaliser, top 53 bits as u in [0,1).
#include "lmlab/data/text_corpus.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

void check_fraction(const char* name, double fraction) {
  LMLAB_CHECK(std::isfinite(fraction) && fraction >= 0.0 && fraction <= 1.0, UsageError,
              "TextSplitOptions: ", name, " fraction ", fraction, " is outside [0, 1]");
}

uint64_t splitmix64_finalise(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

TextSplitOptions& TextSplitOptions::train(double fraction) {
  check_fraction("train", fraction);
  train_ = fraction;
  return *this;
}

TextSplitOptions& TextSplitOptions::validation(double fraction) {
  check_fraction("validation", fraction);
  validation_ = fraction;
  return *this;
}

void TextSplitOptions::validate() const {
  LMLAB_CHECK(train_ + validation_ <= 1.0 + 1e-12, UsageError, "TextSplitOptions: train ", train_,
              " + validation ", validation_,
              " exceeds 1; the test split gets 1 - train - validation");
}

uint64_t fnv1a_64(const std::string& bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

TextSplit split_of(const std::string& text, const TextSplitOptions& options) {
  options.validate();
  const double u = static_cast<double>(splitmix64_finalise(fnv1a_64(text)) >> 11) * 0x1.0p-53;
  if (u < options.train()) return TextSplit::Train;
  if (u < options.train() + options.validation()) return TextSplit::Validation;
  return TextSplit::Test;
}

std::vector<Document> select_split(const std::vector<Document>& docs, TextSplit split,
                                   const TextSplitOptions& options) {
  options.validate();
  std::vector<Document> out;
  for (const Document& doc : docs) {
    if (split_of(doc.text, options) == split) out.push_back(doc);
  }
  return out;
}

}  // namespace lmlab
