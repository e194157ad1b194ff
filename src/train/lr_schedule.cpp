// Warm-up and cosine decay (include/lmlab/train/lr_schedule.h).
#include "lmlab/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace lmlab {

double warmup_cosine_lr(double peak, int64_t warmup, int64_t total, bool cosine, int64_t step) {
  if (step <= warmup) return peak * step / std::max<int64_t>(1, warmup);
  if (!cosine) return peak;
  const double progress = double(step - warmup) / std::max<int64_t>(1, total - warmup);
  return peak * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * std::min(1.0, progress))));
}

}  // namespace lmlab
