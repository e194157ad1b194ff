// Private header (not part of the public API): report.html's sections of papers and their runs,
// and the ids the claims table links to.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/run_record.h"

namespace lmlab {

// Element ids: the section of paper group `group`, of run `run` (its index in the report), the
// figure of that run's plot `name` (file name without .svg), its plots, and its result `key`.
std::string paper_anchor(size_t group);
std::string run_anchor(size_t run);
std::string plot_anchor(size_t run, const std::string& name);
std::string plots_anchor(size_t run);
std::string result_anchor(size_t run, const std::string& key);

// One section per paper group (heading, arXiv id), each holding its runs: their status, errors,
// problems, results, plots, resolved config and the tail of their log.
void write_paper_sections(std::ostream& html, const std::vector<RunRecord>& runs,
                          const std::vector<PaperGroup>& groups);

}  // namespace lmlab
