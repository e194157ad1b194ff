// Private header (not part of the public API): the comparison of two sets of runs as a section of
// a page, shared by the compare page and report.html (`lmlab reproduce --baseline`).
#pragma once

#include <ostream>
#include <string>

#include "lmlab/core/compare.h"

namespace lmlab {

// <section id="comparison"> headed `heading`: the two sides, the counts, the claims grouped by
// paper with both verdicts and measured values, the results beyond tolerance, the config and
// environment differences, and every plot of the experiments both sides ran: one overlay where
// both runs saved the plot's data on the same axes, else the two SVGs side by side.
void write_comparison_section(std::ostream& html, const Comparison& c, const std::string& heading);

}  // namespace lmlab
