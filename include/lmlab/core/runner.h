// Running one experiment: resolve its config, create the run directory, run it, and write
// config.toml, run.json, summary.json (and FAILED with the error if it dies).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmlab/core/run.h"

namespace lmlab {

struct ExperimentDef {
  std::string name;            // "foundation.fmnist_mlp": area.name, as in experiments/<area>/<name>.cpp
  std::string paper;           // "P1 (arXiv 2411.01663)", or "foundation"
  std::string paper_title;     // the paper's title; "" when paper names none
  std::string description;     // one line for `lmlab list`
  std::string default_config;  // TOML text of experiments/<area>/<name>.toml
  bool sweep = false;          // made of sweep points, so --resume applies
  double quick_seconds = 0;    // --quick's one-thread wall time, measured: the order of `reproduce --jobs`
  std::function<void(RunContext&)> body;
  // `lmlab reproduce` runs the experiments of one group in one process, in the list's order, so
  // that each may reuse the others' work (the same trained nets, a cached model); "" = its own.
  std::string process_group;
};

struct RunOptions {
  std::string config_file;        // --config: TOML overrides
  std::vector<std::string> sets;  // --set key=value, applied last
  uint64_t seed = 1;
  int threads = 0;                // 0: keep LibTorch's current setting (resume: the run's own, from run.json)
  bool quick = false;
  std::string out_root = "runs";  // runs go to <out_root>/<name>/<timestamp>-s<seed>/
  std::string resume_dir;         // --resume: continue this run instead of starting one
  // A run on several ranks: the share of the sweep points (run.h, null for data-parallel training)
  // and this process's rank. One rank makes or resumes the run; a `helper` helps with the points of
  // that rank's run `resume_dir`: it works in <run>/ranks/rank<R>/ (its log and the points it
  // computed), draws no plots and writes no summary; its RunOutcome counts no claims.
  PointShare* share = nullptr;
  int rank = 0;
  bool helper = false;
  std::function<void(const std::string& dir)> started;  // called once the run directory exists
};

struct RunOutcome {
  std::string dir;
  int claims = 0, claims_passed = 0;
  std::vector<std::string> problems;
  double wall_s = 0;
  bool failed = false;  // read_run_outcome: the run has no readable summary, or it says the run failed
};

// Resolves defaults, [quick], --config and --set into the config (UsageError on bad keys).
Config resolve_config(const ExperimentDef& def, const RunOptions& options);

// Runs the experiment. Errors inside the body are recorded (FAILED, summary status "failed") and
// rethrown; what was written before is kept, and so is the cause of a kill by SIGTERM, SIGINT or
// SIGHUP (FAILED). The finished points of a run on several ranks, in <run>/ranks/, are reused by a
// resumed run, whatever the number of ranks. With a share the body runs in passes until no row is
// pending (run.h).
RunOutcome run_experiment(const ExperimentDef& def, const RunOptions& options);

// The outcome of a run read back from its summary.json (a run another process made).
RunOutcome read_run_outcome(const std::string& dir);

}  // namespace lmlab
