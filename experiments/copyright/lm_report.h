// What copyright.lm reports from its sweep: the rows gathered by (p, gamma), their min/mean/max
// over seeds, the results, plots and extraction examples (experiments/copyright/lm.cpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lmlab/core/run.h"

namespace lmlab {

struct SeedStats {
  double min = 0, mean = 0, max = 0;
};

class LmGrid {
 public:
  LmGrid(FloatList fractions, FloatList gammas) : fractions_(std::move(fractions)), gammas_(std::move(gammas)) {}
  // A sweep row with "p" and "gamma".
  void add(const Row& row);
  // The field `key` over the seeds of (p, gamma); InternalError when there is no row.
  SeedStats stats(double p, double gamma, const std::string& key) const;
  // The rows of (p, gamma), in seed order.
  const std::vector<Row>& rows(double p, double gamma) const;
  const FloatList& fractions() const { return fractions_; }
  const FloatList& gammas() const { return gammas_; }

 private:
  FloatList fractions_, gammas_;
  std::map<std::pair<double, double>, std::vector<Row>> rows_;
};

// The row without its example strings (for metrics.jsonl).
Row row_without_examples(const Row& row);

// C-style escaping of a text for logs and docs: \n, \t, \\, \" and \xHH for other bytes outside
// printable ASCII.
std::string escape_text(const std::string& text);

// Results (min/mean/max tables), plots (tau_CE, perplexity and extraction against gamma, one
// series per p) and the extraction examples; with `emulated`, the released-code comparison.
void report_lm(RunContext& ctx, const LmGrid& grid, const std::optional<Row>& emulated);

}  // namespace lmlab
