// Comparing two sets of runs: the model (include/lmlab/core/compare.h). comparison_text() is in
// compare_text.cpp, the page in compare_html.cpp.
#include "lmlab/core/compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/run_record.h"
#include "lmlab/core/error.h"
#include "lmlab/core/run_dirs.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The runs of one side, with the newest run of each experiment.
struct LoadedSide {
  RunSet set;
  std::vector<RunRecord> runs;
  std::map<std::string, size_t> newest;  // experiment -> index in runs
};

LoadedSide load_side(const std::string& dir) {
  LMLAB_CHECK(fs::is_directory(dir), DataError, "'", dir,
              "' is not a directory. Pass a run directory (runs/NAME/<stamp>) or a reproduction "
              "(runs/reproduce/<stamp>)");
  LoadedSide side;
  side.runs = load_runs(find_run_dirs(dir));
  LMLAB_CHECK(!side.runs.empty(), DataError, "'", dir,
              "' holds no runs (no summary.json below it). Pass a run directory or a reproduction");
  for (size_t i = 0; i < side.runs.size(); ++i) {
    const RunRecord& run = side.runs[i];
    LMLAB_CHECK(run.unreadable.empty(), DataError, run.dir, ": ", run.unreadable,
                ". Run that experiment again into a fresh directory, or move ", run.dir, " out of ", dir);
    side.newest[run.experiment()] = i;  // runs are sorted by directory name, so the last is the newest
  }
  side.set.dir = dir;
  side.set.runs = static_cast<int>(side.runs.size());
  side.set.git_sha = common_field(side.runs, "git_sha");
  side.set.mode = run_mode(side.runs);
  side.set.started = earliest_start(side.runs);
  return side;
}

// The relative change from a to b (compare.h).
double relative_change(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b))) return 0;
  if (std::isnan(a) || std::isnan(b)) return kInf;
  return a == 0 ? std::copysign(kInf, b) : (b - a) / std::abs(a);
}

// The relative change of the number that moved most from a to b; infinite when their types or
// shapes differ (null is a NaN number, as summary.json writes NaN).
double value_change(const Json& a, const Json& b) {
  const bool num_a = a.is_number() || a.is_null(), num_b = b.is_number() || b.is_null();
  if (num_a && num_b) return relative_change(as_number(a), as_number(b));
  if (a.is_array() && b.is_array() && a.size() == b.size()) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      const double c = value_change(a[i], b[i]);
      if (std::abs(c) > std::abs(worst)) worst = c;
    }
    return worst;
  }
  return a == b ? 0 : kInf;
}

// The keys of the objects a and b whose values changed by more than `threshold`, A's keys first.
std::vector<ValueChange> differences(const std::string& experiment, const Json& a, const Json& b, double threshold) {
  std::vector<ValueChange> out;
  auto add = [&](const std::string& key) {
    const bool in_a = a.contains(key), in_b = b.contains(key);
    const double change = in_a && in_b ? value_change(a.at(key), b.at(key)) : kInf;
    if (std::abs(change) > threshold)
      out.push_back({experiment, key, in_a ? show(a.at(key)) : "(absent)", in_b ? show(b.at(key)) : "(absent)",
                     change});
  };
  for (const auto& item : a.items()) add(item.key());
  for (const auto& item : b.items())
    if (!a.contains(item.key())) add(item.key());
  return out;
}

std::optional<double> measured(const Json* claim) {
  if (claim == nullptr) return std::nullopt;
  return as_number(member(*claim, "measured"));
}

std::optional<bool> passed(const Json* claim) {
  if (claim == nullptr) return std::nullopt;
  return member(*claim, "passed") == true;
}

const Json* find_claim(const RunRecord& run, const std::string& id) {
  for (const Json& c : member(run.summary, "claims"))
    if (field(c, "id") == id) return &c;
  return nullptr;
}

// The claims of one experiment: B's in order, then those only A has.
void compare_claims(Comparison& c, const RunRecord& a, const RunRecord& b, const std::string& paper) {
  std::vector<std::string> ids;
  for (const RunRecord* run : {&b, &a})
    for (const Json& claim : member(run->summary, "claims"))
      if (std::find(ids.begin(), ids.end(), field(claim, "id")) == ids.end()) ids.push_back(field(claim, "id"));
  for (const std::string& id : ids) {
    const Json *ca = find_claim(a, id), *cb = find_claim(b, id);
    const Json& shown = cb ? *cb : *ca;
    ClaimComparison row{paper, b.experiment(), id, field(shown, "statement"), field(shown, "comparator"),
                        as_number(member(shown, "threshold")), passed(ca), passed(cb), measured(ca), measured(cb), 0.0};
    if (ca && cb) row.change = relative_change(*row.measured_a, *row.measured_b);
    c.claims.push_back(std::move(row));
  }
}

// The resolved config with the run's --seed and --quick, which results depend on as much.
Json run_config(const RunRecord& run) {
  Json config{{"--seed", member(run.summary, "seed")}, {"--quick", member(run.summary, "quick")}};
  for (const auto& [key, value] : member(run.summary, "config").items()) config[key] = value;
  return config;
}

void compare_run(Comparison& c, const RunRecord& a, const RunRecord& b, const std::string& paper) {
  const std::string experiment = b.experiment();
  compare_claims(c, a, b, paper);
  const Json &results_a = member(a.summary, "results"), &results_b = member(b.summary, "results");
  for (ValueChange& v : differences(experiment, results_a, results_b, c.tolerance)) c.results.push_back(std::move(v));
  for (ValueChange& v : differences(experiment, run_config(a), run_config(b), 0))
    c.config.push_back(std::move(v));
  const std::vector<std::string> in_a = plot_names(a.dir), in_b = plot_names(b.dir);
  std::set<std::string> all(in_a.begin(), in_a.end());
  all.insert(in_b.begin(), in_b.end());
  auto has = [](const std::vector<std::string>& names, const std::string& name) {
    return std::binary_search(names.begin(), names.end(), name);
  };
  for (const std::string& name : all)
    c.plots.push_back({experiment, name, a.dir, b.dir, has(in_a, name), has(in_b, name)});
}

}  // namespace

int Comparison::verdicts_changed() const {
  int n = 0;
  for (const ClaimComparison& claim : claims) n += claim.verdict_changed();
  return n;
}

int Comparison::values_moved() const {
  int n = 0;
  for (const ClaimComparison& claim : claims) n += beyond(claim.change);
  return n;
}

bool Comparison::beyond(double change) const { return std::abs(change) > tolerance; }

RunSet read_run_set(const std::string& dir) { return load_side(dir).set; }

Comparison compare_runs(const std::string& dir_a, const std::string& dir_b, double tolerance) {
  LMLAB_CHECK(std::isfinite(tolerance) && tolerance >= 0, UsageError,
              "--tolerance must be a relative change >= 0 (0.05 is 5%), got ", tolerance);
  const LoadedSide a = load_side(dir_a), b = load_side(dir_b);
  Comparison c;
  c.a = a.set;
  c.b = b.set;
  c.tolerance = tolerance;
  const RunRecord *env_a = &a.runs.front(), *env_b = &b.runs.front();  // the first pair compared, if any
  bool paired = false;
  for (const PaperGroup& group : group_by_paper(b.runs))
    for (size_t i : group.runs) {
      const std::string experiment = b.runs[i].experiment();
      if (b.newest.at(experiment) != i) continue;  // an older run of an experiment B ran again
      const auto in_a = a.newest.find(experiment);
      if (in_a == a.newest.end()) {
        c.only_b.push_back(experiment);
        continue;
      }
      compare_run(c, a.runs[in_a->second], b.runs[i], group.paper.heading());
      if (!paired) env_a = &a.runs[in_a->second], env_b = &b.runs[i], paired = true;
    }
  for (const auto& [experiment, i] : a.newest)
    if (b.newest.count(experiment) == 0) c.only_a.push_back(experiment);
  c.environment = differences("", env_a->environment(), env_b->environment(), 0);
  return c;
}

}  // namespace lmlab
