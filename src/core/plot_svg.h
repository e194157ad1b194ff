// Private header (not part of the public API): line plots drawn straight into SVG text, for the
// pages that draw their own plots (comparison overlays, claim histories) and inline them.
#pragma once

#include <string>

#include "lmlab/core/plot.h"

namespace lmlab {

// The SVG of `plot` at width x height pixels, with the input rules of render_line_plot; gnuplot
// draws it in a temporary directory, which is removed.
std::string line_plot_svg(const LinePlot& plot, int width, int height);

// The SVG of two plots of the same axes as one, with b's title and axes: b's series solid and
// named "<name> (B)", a's dashed and named "<name> (A)", each in the colour of b's series of the
// same name (a colour of its own when b has none), so each pair reads as before and after.
std::string overlay_svg(const LinePlot& a, const LinePlot& b, int width, int height);

}  // namespace lmlab
