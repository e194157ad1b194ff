// Private header (not part of the public API): the loop RICL and prompt tuning share. Adam on
// `parameters` minimising loss(xs_batch, ys_batch), the batch `batch` validation prompts drawn
// without replacement each step (all when batch is 0 or >= B), from `seed`. Gradients flow into
// `parameters` only, so the frozen model RICL reweights accumulates none.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab::icl::detail {

struct QueryFit {
  std::vector<double> losses;  // per step
  int64_t prompt_passes = 0;   // steps x batch
};

// UsageError (divergence, naming `what`, the step and the lr) when the loss or a parameter stops
// being finite.
QueryFit fit_query_loss(const std::vector<torch::Tensor>& parameters, const torch::Tensor& xs, const torch::Tensor& ys,
                        int64_t steps, double lr, int64_t batch, uint64_t seed, const std::string& what,
                        const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& loss);

}  // namespace lmlab::icl::detail
