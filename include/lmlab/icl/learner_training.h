// Training the in-context learner (Garg et al. 2022, arXiv 2208.01066, sec. 3 and app. A.3): Adam
// on fresh prompts every step, loss the mean over all N points of (yhat_i - y_i)^2 / d_active,
// with a curriculum: the prompts start with dim_start active coordinates (the rest of x zero) and
// points_start points and grow by dim_step and points_step every `interval` steps up to the
// learner's d and N. Deviation [ours]: the loss is divided by the active dimension so its scale
// does not jump when the curriculum grows (Garg et al. use the plain squared error).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmlab/icl/learner.h"

namespace lmlab::icl {

struct CurriculumOptions {
  TORCH_ARG(int64_t, dim_start) = 0;     // active coordinates at step 0 (0 = d from the start)
  TORCH_ARG(int64_t, dim_step) = 1;
  TORCH_ARG(int64_t, points_start) = 0;  // points at step 0 (0 = N from the start)
  TORCH_ARG(int64_t, points_step) = 2;
  TORCH_ARG(int64_t, interval) = 2000;   // steps between growths
};

struct LearnerTrainingOptions {
  // UsageError naming the value for counts < 1, a non-positive lr, a negative noise or a
  // curriculum start above the learner's d or N.
  void validate(const InContextLearnerOptions& learner) const;
  // Every option, for checkpoint keys.
  std::string describe() const;
  TORCH_ARG(int64_t, steps) = 5000;
  TORCH_ARG(int64_t, batch) = 64;
  TORCH_ARG(double, lr) = 1e-4;
  TORCH_ARG(double, noise_std) = 0.0;  // y noise of the training prompts
  TORCH_ARG(CurriculumOptions, curriculum) = CurriculumOptions();
};

// The memory a training step on `batch` prompts needs (lmlab/train/step_memory.h): the
// transformer's floats over the 2N-1 tokens plus the read-in input (d a token).
double learner_step_bytes(InContextLearner& learner, int64_t batch);

// (active dimension, points) of the prompts at `step`.
std::pair<int64_t, int64_t> curriculum_at(const CurriculumOptions& c, const InContextLearnerOptions& learner, int64_t step);

// Trains `learner` in place (train mode during, eval mode after) on prompts drawn from `seed`;
// returns the loss of every step. on_step(step, loss) is called after each step. UsageError when
// the loss stops being finite (a too-large lr), naming the step, and before the first step when
// learner_step_bytes exceeds the memory limit.
std::vector<double> train_learner(InContextLearner& learner, const LearnerTrainingOptions& options, uint64_t seed,
                                  const std::function<void(int64_t, double)>& on_step = {});

}  // namespace lmlab::icl
