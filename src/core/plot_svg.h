// Private header (not part of the public API): a line plot drawn straight into SVG text, for the
// pages that draw their own plots (comparison overlays, claim histories) and inline them.
#pragma once

#include <string>

#include "lmlab/core/plot.h"

namespace lmlab {

// The SVG of `plot` at width x height pixels, with the input rules of render_line_plot; gnuplot
// draws it in a temporary directory, which is removed.
std::string line_plot_svg(const LinePlot& plot, int width, int height);

}  // namespace lmlab
