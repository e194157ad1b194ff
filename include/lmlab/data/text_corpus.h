// Text corpus from the Debian package fortunes: one plain file per topic in
// /usr/share/games/fortunes/, documents separated by lines holding only '%'.
//
// Documents are split into train/validation/test by a hash of their own text, never by position,
// so a document's split does not depend on which topics are loaded, and duplicated texts (the
// same quotation under two topics) always land in the same split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lmlab {

struct Document {
  std::string topic;  // the file name, e.g. "computers"
  std::string text;   // the lines between two '%' lines, joined by '\n', without a final '\n'
};

// The directory used when `dir` is empty: $LMLAB_FORTUNES_DIR if set (and not empty), else the
// Debian package's /usr/share/games/fortunes. A non-empty `dir` is returned unchanged.
std::string fortunes_dir(const std::string& dir = "");

// The topics in fortunes_dir(dir), sorted: regular files, skipping *.dat (strfile indexes), *.u8
// and symbolic links. DataError naming the package fortunes when the directory is missing or
// holds no topic file.
std::vector<std::string> fortune_topics(const std::string& dir = "");

// The documents of `topics` (empty = all), topic files in sorted order, documents in file order.
// Documents holding only whitespace are dropped. UsageError listing the available topics for an
// unknown topic; DataError for a missing directory or unreadable file.
std::vector<Document> load_fortunes(const std::string& dir = "",
                                    const std::vector<std::string>& topics = {});

enum class TextSplit { Train, Validation, Test };

// Fractions of the document split; test gets the rest, 1 - train - validation. Each setter checks
// its range; validate() (called by every user of the options) checks the sum.
class TextSplitOptions {
 public:
  TextSplitOptions& train(double fraction);
  TextSplitOptions& validation(double fraction);
  double train() const { return train_; }
  double validation() const { return validation_; }
  double test() const { return 1.0 - train_ - validation_; }
  void validate() const;

 private:
  double train_ = 0.8;
  double validation_ = 0.1;
};

// 64-bit FNV-1a of the bytes (offset basis 14695981039346656037, prime 1099511628211).
uint64_t fnv1a_64(const std::string& bytes);

// The split of one text: u = (splitmix64(fnv1a_64(text)) >> 11) * 2^-53, uniform in [0,1); Train
// if u < train, Validation if u < train + validation, else Test. The splitmix64 finaliser spreads
// every input byte over the top 53 bits, which plain FNV-1a does poorly for short texts.
TextSplit split_of(const std::string& text, const TextSplitOptions& options = {});

// The documents of `docs` whose split is `split`, in their order.
std::vector<Document> select_split(const std::vector<Document>& docs, TextSplit split,
                                   const TextSplitOptions& options = {});

}  // namespace lmlab
