// Statistics for claims (experiments/common/stats.h).
#include "common/stats.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/scaling/power_law.h"

namespace lmlab {

double loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> kept_x, kept_y;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i)
    if (x[i] > 0 && y[i] > 0 && std::isfinite(x[i]) && std::isfinite(y[i])) kept_x.push_back(x[i]), kept_y.push_back(y[i]);
  try {
    return -scaling::fit_power_law(kept_x, kept_y).alpha;
  } catch (const UsageError&) {
    return std::nan("");
  }
}

double linear_slope(const std::vector<double>& x, const std::vector<double>& y) {
  try {
    return scaling::fit_line(x, y).slope;
  } catch (const UsageError&) {
    return std::nan("");
  }
}

double median_of(std::vector<double> values) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::string short_number(double x) {
  std::ostringstream os;
  os.precision(3);
  os << x;
  return os.str();
}

std::pair<double, double> mean_ci95(const std::vector<double>& values) {
  static const double t975[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};
  const double n = static_cast<double>(values.size());
  double mean = 0, ss = 0;
  for (const double x : values) mean += x / n;
  for (const double x : values) ss += (x - mean) * (x - mean);
  if (values.size() < 2) return {mean, 0.0};
  const size_t df = values.size() - 1;
  return {mean, (df < 11 ? t975[df] : 1.96) * std::sqrt(ss / (n - 1) / n)};
}

}  // namespace lmlab
