// Divergence check (include/lmlab/train/finite_check.h).
#include "lmlab/train/finite_check.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab {

void check_finite_loss(double loss, const torch::nn::Module& model, int64_t step, const std::string& fix) {
  if (std::isfinite(loss)) return;
  std::string where = "no parameter's gradient is non-finite";
  for (const auto& p : model.named_parameters())
    if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>()) {
      where = "the gradient of " + p.key() + " is not finite";
      break;
    }
  throw DataError("training diverged at step " + std::to_string(step) + ": the loss is " + std::to_string(loss) +
                  " and " + where + "; " + fix);
}

}  // namespace lmlab
