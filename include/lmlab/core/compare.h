// Comparing two sets of runs, a baseline A and a newer B (`lmlab compare A B`, `lmlab reproduce
// --baseline A`): the claims whose verdict changed, every claim's measured value on both sides with
// its relative change, the results that moved beyond a tolerance, the config and environment keys
// that differ, and the plots of both runs, overlaid where they share axes.
//
// A and B are each a run directory or a directory of runs (a reproduction). Experiments are
// matched by name; where a side holds several runs of one experiment, its newest (last by
// directory name) is compared. A claim absent on one side of an experiment both ran counts as a
// changed verdict (a run that failed before deciding it, a renamed claim); an experiment only one
// side ran is listed, and its claims are not compared.
//
// The relative change of a number from a to b is (b - a) / |a|: 0 when both are equal (NaN equals
// NaN), infinite when a is 0 or NaN and b is not, or when the two values are not numbers of the
// same shape (a list of another length, another string).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lmlab {

// Results (and measured values) whose relative change is at most this are within tolerance,
// unless --tolerance says otherwise.
constexpr double kDefaultTolerance = 0.05;

// One side of the comparison as summary.json describes its runs.
struct RunSet {
  std::string dir;
  int runs = 0;
  std::string git_sha, mode, started;  // shared by its runs, else "mixed"; mode "quick" or "full"
};

// One claim of an experiment both sides ran.
struct ClaimComparison {
  std::string paper;  // the heading of the experiment's paper ("P4 · Unified framework ...")
  std::string experiment, id, statement, comparator;
  double threshold = 0;
  std::optional<bool> passed_a, passed_b;    // nullopt: the claim is absent on that side
  std::optional<double> measured_a, measured_b;
  double change = 0;  // relative change of the measured value; 0 when a side lacks the claim

  bool verdict_changed() const { return passed_a != passed_b; }
};

// A result, config key or environment entry whose value differs.
struct ValueChange {
  std::string experiment, key;
  std::string a, b;  // as shown; "(absent)" on a side that lacks it
  double change;     // the relative change of the number that moved most (signed), or infinite
};

// A plot (by file name, without .svg) of an experiment both sides ran, and which side has it.
struct PlotPair {
  std::string experiment, name;
  std::string dir_a, dir_b;  // the two run directories
  bool in_a = false, in_b = false;
};

struct Comparison {
  RunSet a, b;
  double tolerance = kDefaultTolerance;
  std::vector<ClaimComparison> claims;  // grouped by paper as in the report
  std::vector<ValueChange> results;     // results beyond tolerance
  std::vector<ValueChange> config;      // config keys (and the runs' --seed and --quick) that differ
  std::vector<ValueChange> environment; // environment entries that differ (summary.json "environment")
  std::vector<PlotPair> plots;
  std::vector<std::string> only_a, only_b;  // experiments only one side ran

  int verdicts_changed() const;
  // Claims whose measured value moved beyond tolerance.
  int values_moved() const;
  // |change| > tolerance (an infinite change is always beyond).
  bool beyond(double change) const;
};

// The runs of `dir` as a side of a comparison, checked as compare_runs checks them (DataError).
RunSet read_run_set(const std::string& dir);

// Compares the runs in dir_a (baseline) and dir_b. DataError naming the directory or file and the
// fix when a directory is missing, holds no runs, or a run's summary.json is missing or corrupt.
// UsageError when tolerance is negative or not finite.
Comparison compare_runs(const std::string& dir_a, const std::string& dir_b, double tolerance = kDefaultTolerance);

// The comparison as plain text for a terminal, at most 100 columns wide: the sides, every
// compared claim with both measured values and the change, results beyond tolerance, config and
// environment differences, experiments only one side ran, and a closing count.
std::string comparison_text(const Comparison& c);

// The comparison as a self-contained HTML page (like report.html), written atomically.
void write_comparison_page(const Comparison& c, const std::string& html_path);

}  // namespace lmlab
