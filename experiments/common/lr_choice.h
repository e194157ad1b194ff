// Choosing a learning rate per method on held-out data, one resumable sweep point per trial
// (config key adapt.lr_factors of the fine-tuning experiments, lr_factors of optim.accelerating).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "lmlab/core/run.h"
#include "lmlab/data/text_corpus.h"

namespace lmlab {

// trial(lr) trains a fresh model at lr = f x base_lr for each factor f, one resumable sweep point
// each (keyed `key,lr_factor=f`, or `key` alone when there is a single factor), and returns a row
// with "selection_loss", measured on data held out of the training set (never on the reported
// split). Returns the row of the lowest selection loss (the first on ties; NaN never wins) with
// "lr" added; with a single factor, that factor's row, unselected.
Row choose_learning_rate(RunContext& ctx, const std::string& key, const FloatList& factors, double base_lr,
                         const std::function<Row(double lr)>& trial);

// UsageError unless `factors` (config key `key`) is non-empty and positive, and, when it has
// several entries, `selection_size` (the held-out data the choice is made on) is >= 1; `fix` says
// how to get some.
void check_lr_factors(const FloatList& factors, int64_t selection_size, const std::string& fix,
                      const std::string& key = "adapt.lr_factors");

// Training documents with every `every`-th one (1-based) held out for the choice; every = 0: none.
struct HeldOutDocuments {
  std::vector<Document> train, selection;
};
HeldOutDocuments hold_out_every(const std::vector<Document>& docs, int64_t every);

}  // namespace lmlab
