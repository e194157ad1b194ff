// Learning-rate schedules shared by every trainer.
#pragma once

#include <cstdint>

namespace lmlab {

// Linear warm-up from 0 to `peak` over steps 1..warmup, then cosine decay to peak / 10 at step
// `total` (constant afterwards); constant `peak` after warm-up when `cosine` is false:
//   lr(s) = peak s / warmup                                      s <= warmup
//   lr(s) = peak (0.1 + 0.45 (1 + cos(pi min(1, (s - warmup) / (total - warmup)))))  otherwise.
// Steps count from 1; warmup 0 starts at the peak.
double warmup_cosine_lr(double peak, int64_t warmup, int64_t total, bool cosine, int64_t step);

}  // namespace lmlab
