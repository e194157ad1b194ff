// Curves gathered over the seeds of a sweep, for plots and claims.
#pragma once

#include <string>
#include <vector>

#include "lmlab/core/plot.h"
#include "lmlab/core/value.h"

namespace lmlab {

// The pointwise median over `rows` of their FloatList field `key` (all of one length), as a series
// named `name` with x = 0, x_step, 2 x_step, ... and the band lo..hi from the pointwise minimum to
// the maximum; InternalError when the field is missing or the lengths differ.
Series median_curve(const std::vector<Row>& rows, const std::string& key, double x_step, const std::string& name);

// i x_step for the first y[i] <= target; infinity when none is.
double first_x_at_or_below(const std::vector<double>& y, double target, double x_step);

}  // namespace lmlab
