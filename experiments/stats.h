// Small statistics shared by experiments: fits used by claims.
#pragma once

#include <vector>

namespace lmlab {

// Least-squares slope of log(y) against log(x); points with x <= 0 or y <= 0 are skipped.
// NaN when fewer than two points remain (a claim on NaN fails).
double loglog_slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace lmlab
