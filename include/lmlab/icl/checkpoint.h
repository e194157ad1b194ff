// Checkpoints of the in-context learner: a weights file of lmlab/models/weights.h (LibTorch
// archive, format_version, kind, parameters, buffers) whose kind is
//   "icl_learner v1 d=5 points=11 layers=2 heads=2 width=64 mlp_ratio=4"
// so the file describes the architecture it holds and load_learner rebuilds it. Errors:
//   missing, unreadable or corrupt file, or a file of another model kind  -> DataError (exit 3)
//   a learner whose d or points differ from what the caller expects      -> UsageError (exit 2)
// Experiments cache trained learners under <dir>/<16 hex digits>.pt, the digits a 64-bit FNV-1a
// hash of a text that names everything the training depends on (checkpoint_path).
#pragma once

#include <string>

#include "lmlab/icl/learner.h"

namespace lmlab::icl {

// Writes atomically; DataError when the directory is not writable.
void save_learner(const InContextLearner& learner, const std::string& path);

// The learner stored at `path`, in eval mode.
InContextLearner load_learner(const std::string& path);
// The same, and UsageError naming both when its d or points differ from `expected`'s.
InContextLearner load_learner(const std::string& path, const InContextLearnerOptions& expected);

// <dir>/<hash of key>.pt.
std::string checkpoint_path(const std::string& dir, const std::string& key);

}  // namespace lmlab::icl
