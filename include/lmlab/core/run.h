// RunContext: what an experiment sees while it runs. It owns the run directory
// `runs/NAME/<timestamp>-s<seed>/` (DESIGN.md "Runs, results, claims"): the experiment logs,
// appends metrics, records results and claims, and draws plots through it; the runner writes
// config.toml, summary.json and, when the run dies, FAILED.
//
// Sweeps: an experiment made of independent points (widths, seeds, prefix lengths) computes each
// through sweep_point(key, fn). A finished point's row is stored in points.jsonl at once, and a
// resumed run (--resume) returns stored rows instead of recomputing them, so the final results
// are the same as those of an uninterrupted run.
//
// Several ranks (lmlab run under torchrun or srun) share one sweep through a PointShare: every rank
// runs the body, each point is computed by the rank that claims it first, and a point another rank
// is still computing comes back as a pending row. The body goes on to claim the next point; reading
// a field of a pending row throws PointPending, and the runner runs the body again once that point
// is finished. Finished points are reused, so a pass costs little beyond the points it computes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lmlab/core/claims.h"
#include "lmlab/core/config.h"
#include "lmlab/core/error.h"
#include "lmlab/core/plot.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/value.h"

namespace lmlab {

// The sweep points of one run, shared by the processes that compute them (run_shared in runner.h
// gives one over LibTorch's c10d store).
class PointShare {
 public:
  virtual ~PointShare() = default;
  // True for the one process that claims `key` first: it computes the point.
  virtual bool claim(const std::string& key) = 0;
  // The stored line (as in points.jsonl) of a finished point; nullopt while it is not finished.
  // DataError when the process that claimed it failed.
  virtual std::optional<std::string> finished(const std::string& key) = 0;
  virtual void publish(const std::string& key, const std::string& line) = 0;
  virtual void publish_failure(const std::string& key, const std::string& error) = 0;
  // Blocks until `key` is finished (polling finished()); its line.
  std::string wait(const std::string& key);
};

// Reading a field of a point that another process is still computing (RunContext::share_points).
class PointPending : public std::exception {
 public:
  explicit PointPending(std::string key) : key_(std::move(key)), what_("sweep point " + key_ + " is pending") {}
  const std::string& key() const { return key_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string key_, what_;
};

class RunContext {
 public:
  RunContext(std::string dir, Config config, uint64_t seed, bool quick);

  const Config& config() const { return config_; }
  uint64_t seed() const { return seed_; }
  bool quick() const { return quick_; }
  const std::string& dir() const { return dir_; }
  // Path of a file inside the run directory.
  std::string path(const std::string& file) const;

  // A line to stdout and log.txt.
  void log(const std::string& line);
  // A sink that writes lines to log.txt only (for Progress, which draws on the terminal itself).
  Progress::LineSink log_sink();
  // One JSON object per line in metrics.jsonl. A sweep point's rows are also stored with the point,
  // so that a resumed run, which writes metrics.jsonl again from its start, replays them in order.
  void metric(const Row& row);
  // A named result in summary.json "results". Results must be deterministic for a given seed,
  // threads and SIMD level: no wall times here (log them as metrics).
  void result(const std::string& key, const Value& value);
  void claim(const Claim& claim);
  // Renders <name>.svg and <name>.png, and saves a line plot's data as <name>.plot.json (for
  // `lmlab compare`); a plotting failure is logged and recorded, not fatal, so the numbers of the
  // run are never lost to a missing gnuplot.
  void plot(const LinePlot& plot, const std::string& name);
  void plot(const ImageGrid& grid, const std::string& name);

  // The row of sweep point `key`: stored if already finished (its metric rows are logged again),
  // otherwise compute() and store it with the metric rows it logged. With a bar, the point is one
  // unit of it: skipped when stored, advanced when computed.
  Row sweep_point(const std::string& key, const std::function<Row()>& compute, Progress* bar = nullptr);

  // Also reuses the finished points stored in `file` (another rank's points.jsonl), read-only.
  void reuse_points_from(const std::string& file);
  // Shares the sweep points with other processes: a point finished elsewhere is reused, an
  // unclaimed one is claimed, computed and published, and one that another process is computing
  // comes back as a pending row (inside another point's compute it is waited for instead). With
  // `adopt`, points finished elsewhere are also appended to this run's points.jsonl, so that it
  // ends up holding every point (rank 0, whose directory is the run's). `share` must outlive this.
  void share_points(PointShare* share, bool adopt);
  // The keys of the pending rows returned so far.
  const std::set<std::string>& pending() const { return pending_; }
  // True once a point failed: its compute threw here, or the share says it failed elsewhere. Such
  // an error is real, not an effect of reading a pending row.
  bool point_failed() const { return point_failed_; }
  // A helper of another rank's run: plot() draws nothing and claims are recorded without a log
  // line; the run's own rank draws and reports them.
  void act_as_helper() { helper_ = true; }

  const std::map<std::string, Value>& results() const { return results_; }
  const std::vector<Claim>& claims() const { return claims_; }
  const std::vector<std::string>& problems() const { return problems_; }
  // How many sweep points were read back from points.jsonl rather than computed.
  int reused_points() const { return reused_points_; }

 private:
  std::string dir_;
  Config config_;
  uint64_t seed_;
  bool quick_;
  std::map<std::string, Value> results_;
  std::vector<Claim> claims_;
  std::vector<std::string> problems_;  // non-fatal problems (plots), reported in the summary
  struct StoredPoint {
    Row row;
    std::vector<std::string> metrics;  // its metric rows as JSON lines
    std::string line;                  // as stored, for points read from another file
  };
  // Reads a points file into finished_points_ (kept: `own` points.jsonl, others: `elsewhere_`);
  // returns whether every point has its metric rows. Damaged lines are dropped from `own`.
  bool load_points(const std::string& file, bool own);
  // The row of a finished point, with its metric rows replayed.
  Row reuse(const std::string& key, StoredPoint& point, Progress* bar);

  std::map<std::string, StoredPoint> finished_points_;
  std::set<std::string> elsewhere_;  // finished points not (yet) in this run's points.jsonl
  std::vector<std::string>* point_metrics_ = nullptr;  // the metrics of the point being computed
  int reused_points_ = 0;
  PointShare* share_ = nullptr;
  bool adopt_ = false, helper_ = false, point_failed_ = false;
  std::set<std::string> pending_;
};

// A pending row (see RunContext::share_points) is a row whose one field is this; its value is the key.
extern const char kPendingField[];

// A sweep row without the field asked for, or with a field of another type: a bug when the row was
// just computed, damage when it was read back from points.jsonl (the runner then reports a
// DataError that says so).
class SweepRowError : public InternalError {
 public:
  using InternalError::InternalError;
};

// The `key` field of a sweep row; SweepRowError if it is missing, PointPending if the row is pending.
const Value& row_value(const Row& row, const std::string& key);
// The `key` field of a sweep row as a number; SweepRowError if it is missing or not a number.
double row_number(const Row& row, const std::string& key);
// row_number(row, key) of every row, in order: one column of a sweep's results.
std::vector<double> column(const std::vector<Row>& rows, const std::string& key);

}  // namespace lmlab
