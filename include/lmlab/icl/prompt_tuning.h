// The tuning baselines P9 (arXiv 2310.03331) compares RICL with: a copy of the trained in-context
// learner, adapted on the same validation prompts RICL fits on (biased contexts, clean query
// targets) by minimising the squared query error (1/B) sum_b (yhat_query_b - y_query_b)^2 / d:
//   "full"      fine-tuning: every parameter trained (the paper's "classic fine-tuning method")
//   "prefix:M"  P-Tuning v2 (lmlab/ntk_attention/prefix_attention.h): M learned key/value vectors
//               per head and layer, the learner frozen (the reviewers' "strong contender")
// by Adam on mini-batches, as RICL. Cost: steps x batch prompt passes and the trained parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/icl/learner.h"

namespace lmlab::icl {

struct PromptTuningOptions {
  void validate() const;  // UsageError: steps < 1, batch < 0, lr not finite and > 0
  TORCH_ARG(int64_t, steps) = 200;
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(int64_t, batch) = 0;  // validation prompts per step; 0 = all
  TORCH_ARG(uint64_t, seed) = 0;
};

struct TunedLearner {
  InContextLearner learner{nullptr};  // in eval mode
  int64_t trained_parameters = 0;
  int64_t prompt_passes = 0;
  std::vector<double> losses;  // per step
};

// method: "full" or "prefix:M" (M >= 1); UsageError for anything else. `trained` is not changed.
TunedLearner tune_on_prompts(const InContextLearner& trained, const std::string& method, const torch::Tensor& xs,
                             const torch::Tensor& ys, const PromptTuningOptions& options = {});

}  // namespace lmlab::icl
