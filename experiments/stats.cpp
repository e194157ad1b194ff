// Statistics for claims (experiments/stats.h).
#include "stats.h"

#include <cmath>

namespace lmlab {

double loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(x[i] > 0) || !(y[i] > 0)) continue;
    const double lx = std::log(x[i]), ly = std::log(y[i]);
    n += 1, sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  const double denom = n * sxx - sx * sx;
  if (n < 2 || denom == 0) return std::nan("");
  return (n * sxy - sx * sy) / denom;
}

}  // namespace lmlab
