// The report of one or more runs (DESIGN.md "Runs, results, claims"): a self-contained HTML page
// that opens offline (inline CSS, plots inlined as SVG, no scripts, fonts or links to fetch), and
// claims.json, the machine-readable list of every claim with its verdict.
//
// Each run directory is read as the runner writes it: summary.json, FAILED (a run that died),
// config.toml, log.txt and the *.svg plots. A run whose summary.json is missing or garbled is
// listed as unreadable with the reason; it never stops the report of the others.
#pragma once

#include <string>
#include <vector>

namespace lmlab {

// Writes the HTML report of `run_dirs` to `html_path` (atomically): header with the environment of
// the first run, summary counts, one claims table across all runs, then one section per run with
// its results, plots, resolved config, the tail of its log, and the error of a failed run.
void write_report(const std::vector<std::string>& run_dirs, const std::string& html_path,
                  const std::string& title);

// A JSON array with one object per claim of every readable run:
// {experiment, paper, run_dir, id, statement, measured, comparator, threshold, passed}.
std::string claims_json(const std::vector<std::string>& run_dirs);
// claims_json(run_dirs), written atomically to `path`.
void write_claims_json(const std::vector<std::string>& run_dirs, const std::string& path);

}  // namespace lmlab
