// Curves over seeds (experiments/common/curves.h).
#include "common/curves.h"

#include <algorithm>
#include <cmath>

#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/run.h"

namespace lmlab {

Series median_curve(const std::vector<Row>& rows, const std::string& key, double x_step, const std::string& name) {
  Series s{name, {}, {}, {}};
  if (rows.empty()) return s;
  const size_t points = std::get<FloatList>(row_value(rows[0], key)).size();
  for (size_t i = 0; i < points; ++i) {
    std::vector<double> at;
    for (const Row& r : rows) {
      const auto& curve = std::get<FloatList>(row_value(r, key));
      LMLAB_ASSERT(curve.size() == points, "curve '", key, "' has ", curve.size(), " points, not ", points);
      at.push_back(curve[i]);
    }
    s.x.push_back(static_cast<double>(i) * x_step), s.y.push_back(median_of(at));
    s.lo.push_back(*std::min_element(at.begin(), at.end())), s.hi.push_back(*std::max_element(at.begin(), at.end()));
  }
  return s;
}

double first_x_at_or_below(const std::vector<double>& y, double target, double x_step) {
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] <= target) return static_cast<double>(i) * x_step;
  return INFINITY;
}

}  // namespace lmlab
