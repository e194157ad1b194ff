// Claims' numbers as text (src/core/claim_format.h).
#include "core/claim_format.h"

#include <cmath>
#include <cstdio>

namespace lmlab {

std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string format_change(double change) {
  if (change == 0) return "0%";
  if (std::isinf(change)) return "changed";
  char buf[32];
  const double percent = 100 * change;
  std::snprintf(buf, sizeof buf, std::abs(percent) < 1000 ? "%+.3g%%" : "%+.0f%%", percent);
  return buf;
}

std::string format_percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", 100 * fraction);
  return buf;
}

std::string format_claim_side(std::optional<bool> passed, std::optional<double> measured) {
  if (!passed) return "absent";
  return (*passed ? "PASS " : "FAIL ") + format_number(measured.value_or(std::nan("")));
}

}  // namespace lmlab
