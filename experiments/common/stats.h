// Small statistics shared by experiments: fits used by claims, medians, intervals.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lmlab {

// Least-squares slope of log(y) against log(x) (scaling::fit_power_law's -alpha); points with
// x <= 0 or y <= 0 or NaN are skipped. NaN when fewer than two distinct x remain (a claim on NaN
// fails).
double loglog_slope(const std::vector<double>& x, const std::vector<double>& y);

// Least-squares slope of y against x; NaN when fewer than two distinct x.
double linear_slope(const std::vector<double>& x, const std::vector<double>& y);

// The median (mean of the two middle values for an even count); NaN for an empty list.
double median_of(std::vector<double> values);
// The mean of `values` and the half-width of its 95% Student-t interval (0 for one value).
std::pair<double, double> mean_ci95(const std::vector<double>& values);
// x with 3 significant digits ("0.001", "2.5", "1.2e+04"), for labels and claim statements.
std::string short_number(double x);

}  // namespace lmlab
