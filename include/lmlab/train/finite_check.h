// Stopping training the moment it diverges: a NaN or Inf loss ends the run with the step and the
// tensor it came from, before the optimizer spreads it into the weights.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace lmlab {

// DataError when `loss` (after backward) is NaN or Inf: "training diverged at step S: the loss is L
// and the gradient of <first parameter whose gradient is not finite> is not finite; <fix>".
void check_finite_loss(double loss, const torch::nn::Module& model, int64_t step, const std::string& fix);

}  // namespace lmlab
