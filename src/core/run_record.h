// Private header (not part of the public API): a run directory as the report, the history and
// the comparison read it (summary.json, FAILED), and the paper each run belongs to.
#pragma once

#include <string>
#include <vector>

#include "core/json_value.h"

namespace lmlab {

// obj[key], or null when obj is not an object or lacks the key.
const Json& member(const Json& obj, const char* key);
// A JSON value as readable text: floats as %.4g, null (how NaN is stored) as NaN, long lists cut.
std::string show(const Json& v);
// obj[key] as text, "" when absent.
std::string field(const Json& obj, const char* key);
// A number of summary.json; NaN for null (how NaN is written) and for anything not a number.
double as_number(const Json& v);

// A paper as summary.json names it: the label ("P4 RA/RVA (arXiv 2402.01515)") and, in runs
// written since it is recorded, "paper_title".
struct PaperRef {
  std::string key;    // what groups runs: the arXiv id, else the label; "" for an unreadable run
  std::string arxiv;  // "2402.01515", or ""
  std::string name;   // the label's first word, "P4" (the whole label when it has no arXiv id)
  std::string title;  // the paper's title, else what the label says besides name and arXiv id

  // "P4 · Unified framework for ...", "foundation (no paper)", "unreadable runs".
  std::string heading() const;
};

// One run directory as read from disk.
struct RunRecord {
  std::string dir;
  Json summary;            // a JSON object; empty when the run is unreadable
  std::string unreadable;  // why summary.json cannot be used; empty when readable
  std::string failed;      // the text of FAILED, when the file exists

  bool is_failed() const;
  // summary.json's "experiment", else the directory's name.
  std::string experiment() const;
  PaperRef paper() const;
  // summary.json's "wall_s"; 0 when absent.
  double wall_s() const;
  // summary.json's "environment" as an object {name: value}; it is also read in its older form,
  // a list of [name, value] pairs.
  Json environment() const;
};

// The plots of a run directory: its *.svg files by name without the extension, sorted; empty when
// the directory does not exist.
std::vector<std::string> plot_names(const std::string& dir);

// Reads the run; problems become `unreadable`, never exceptions.
RunRecord load_run(const std::string& dir);
std::vector<RunRecord> load_runs(const std::vector<std::string>& dirs);

// What a set of runs (a reproduction) shares: field(summary, key) when every run agrees, else
// "mixed"; run_mode is "quick", "full" or "mixed"; earliest_start the first "started" ("" if none).
std::string common_field(const std::vector<RunRecord>& runs, const char* key);
std::string run_mode(const std::vector<RunRecord>& runs);
std::string earliest_start(const std::vector<RunRecord>& runs);

// The runs of one paper, in the order given.
struct PaperGroup {
  PaperRef paper;
  std::vector<size_t> runs;  // indices into the runs given to group_by_paper
  int claims = 0, passed = 0, failed_runs = 0;
  double wall_s = 0;
};

// The runs grouped by paper: runs without a paper number ("foundation") first, then P1, P2, ...
// by number, unreadable runs last.
std::vector<PaperGroup> group_by_paper(const std::vector<RunRecord>& runs);

}  // namespace lmlab
