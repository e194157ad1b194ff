// Private header (not part of the public API): report.html's history of several reproductions.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace lmlab {

// <section id="history">: a table of the reproductions (oldest first, as given: number, directory,
// start, mode, claims passed, wall time), then per paper a small plot per claim of its measured
// value in each reproduction that has it, with the threshold as a line, and the values as text
// (the only form of a plot gnuplot could not draw). Unreadable runs contribute nothing.
void write_history_section(std::ostream& html, const std::vector<std::string>& reproductions);

}  // namespace lmlab
