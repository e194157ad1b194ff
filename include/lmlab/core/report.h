// The report of one or more runs (DESIGN.md "Runs, results, claims"): a self-contained HTML page
// that opens offline (inline CSS, plots inlined as SVG, no scripts, fonts or stylesheets to
// fetch) and reads without JavaScript, and claims.json, the machine-readable list of every claim
// with its verdict.
//
// The page opens with an overview, one row per paper (its arXiv id and title, claims passed of
// total, the wall time of its experiments, a link to its section), then the claims grouped by
// paper, each linking to the plot and the result that decide it, then (when asked) the comparison
// with a baseline and the history of each claim, then one section per paper with its runs.
//
// A claim's plot is the one its experiment named (Claim::shown_in); its result is the result
// whose value is the measured value (a result named like the claim first, then a number, then an
// element of a list). Runs written before papers' titles and claims' plots were recorded show
// the paper label and link the claim to its run's plots.
//
// Each run directory is read as the runner writes it: summary.json, FAILED (a run that died),
// config.toml, log.txt and the *.svg plots. A run whose summary.json is missing or garbled is
// listed as unreadable with the reason; it never stops the report of the others.
#pragma once

#include <string>
#include <vector>

#include "lmlab/core/compare.h"

namespace lmlab {

struct ReportOptions {
  // A comparison with an earlier reproduction (`lmlab reproduce --baseline`), shown after the
  // claims; nullptr for none.
  const Comparison* baseline = nullptr;
  // Reproduction directories, oldest first (find_reproductions): with two or more, the page shows
  // each claim's measured value over them, a small plot per claim, and a table of them.
  std::vector<std::string> history;
};

// Writes the HTML report of `run_dirs` to `html_path` (atomically).
void write_report(const std::vector<std::string>& run_dirs, const std::string& html_path,
                  const std::string& title, const ReportOptions& options = {});

// A JSON array with one object per claim of every readable run:
// {experiment, paper, run_dir, id, statement, measured, comparator, threshold, passed} and, when
// the experiment named it, plot.
std::string claims_json(const std::vector<std::string>& run_dirs);
// claims_json(run_dirs), written atomically to `path`.
void write_claims_json(const std::vector<std::string>& run_dirs, const std::string& path);

}  // namespace lmlab
