// The [learner] and [training] sections the icl.* experiments share, and how they obtain a trained
// learner: from learner.checkpoint when set (d and points must match: UsageError), else from the
// cache learner.cache_dir/<hash>.pt keyed by every option the training depends on (the
// architecture, the training options and the training seed), else trained now and cached. A cached
// file that is corrupt or foreign is a DataError (exit 3) naming it; delete it to retrain.
#pragma once

#include <string>

#include "lmlab/core/run.h"
#include "lmlab/icl/learner.h"
#include "lmlab/icl/learner_training.h"

namespace lmlab {

struct LearnerSetup {
  icl::InContextLearnerOptions learner{1, 1};
  icl::LearnerTrainingOptions training;
  uint64_t seed = 0;       // training prompts
  std::string checkpoint;  // learner.checkpoint ("" = none)
  std::string cache_dir;   // learner.cache_dir ("" = no cache)
  int64_t threads = 1;     // learner.threads: intra-op threads for the learner's work (0 = the run's)
  std::string key() const;  // what the cache is keyed by
};

// Sets LibTorch's intra-op threads to `threads` (0: leaves them) and restores them when it ends. A
// learner this small runs fastest on one thread: the work per op is too small to share, and a
// second thread mostly waits.
class ScopedThreads {
 public:
  explicit ScopedThreads(int64_t threads);
  ~ScopedThreads();
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

// Reads dim, points, noise_std, learner.*, training.* and checks every value (UsageError naming
// the key).
LearnerSetup read_learner_setup(const Config& cfg, uint64_t run_seed);

// The trained learner (eval mode). Logs where it came from; a learner trained now has its loss
// curve recorded as metrics and plotted as training_loss.
icl::InContextLearner obtain_learner(RunContext& ctx, const LearnerSetup& setup);

}  // namespace lmlab
