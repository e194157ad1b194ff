// Learning-rate choice on held-out data (experiments/common/lr_choice.h).
#include "common/lr_choice.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "lmlab/core/error.h"

namespace lmlab {

Row choose_learning_rate(RunContext& ctx, const std::string& key, const FloatList& factors, double base_lr,
                         const std::function<Row(double lr)>& trial) {
  Row best;
  double best_loss = INFINITY, best_lr = 0;
  for (const double f : factors) {
    std::ostringstream point;
    point << key;
    if (factors.size() > 1) point << ",lr_factor=" << f;
    const Row row = ctx.sweep_point(point.str(), [&] { return trial(f * base_lr); });
    double loss = factors.size() > 1 ? row_number(row, "selection_loss") : 0;
    if (std::isnan(loss)) loss = INFINITY;  // a diverged run never wins
    if (best.empty() || loss < best_loss) best = row, best_loss = loss, best_lr = f * base_lr;
  }
  best.emplace_back("lr", best_lr);
  return best;
}

void check_lr_factors(const FloatList& factors, int64_t selection_size, const std::string& fix, const std::string& key) {
  LMLAB_CHECK(!factors.empty() && std::all_of(factors.begin(), factors.end(), [](double f) { return f > 0; }),
              UsageError, key, " must be a non-empty list of positive factors, e.g. [0.3, 1.0, 3.0]");
  LMLAB_CHECK(factors.size() == 1 || selection_size >= 1, UsageError, key, " has ", factors.size(),
              " entries, so the learning rate is chosen on held-out training data, and there is none: ", fix,
              " (or give one factor)");
}

HeldOutDocuments hold_out_every(const std::vector<Document>& docs, int64_t every) {
  HeldOutDocuments split;
  for (size_t i = 0; i < docs.size(); ++i)
    (every && (i + 1) % every == 0 ? split.selection : split.train).push_back(docs[i]);
  return split;
}

}  // namespace lmlab
