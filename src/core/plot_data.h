// Private header (not part of the public API): a line plot's data saved beside its SVG as
// <stem>.plot.json, so that `lmlab compare` can draw the plots of two runs on one set of axes:
//   {"title", "xlabel", "ylabel", "logx", "logy",
//    "series": [{"name", "x", "y", "yerr"?, "lo"?, "hi"?}]}   (NaN and Inf are written as null)
#pragma once

#include <string>

#include "core/json_value.h"
#include "lmlab/core/plot.h"

namespace lmlab {

Json line_plot_json(const LinePlot& plot);
// The plot of line_plot_json(); DataError naming what is missing or of the wrong type.
LinePlot line_plot_from_json(const Json& j);

// Writes <path_stem>.plot.json atomically.
void save_plot_data(const LinePlot& plot, const std::string& path_stem);
// Reads a .plot.json file; DataError when it is unreadable or malformed.
LinePlot load_plot_data(const std::string& path);

}  // namespace lmlab
