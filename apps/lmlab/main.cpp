// lmlab: the command-line workbench (DESIGN.md "Runs, results, claims").
//   lmlab list | info | run NAME... [...] | reproduce [--quick|--full] [--only GLOBS] [--jobs N] [--baseline DIR]
//   lmlab report DIR | compare DIR_A DIR_B [--tolerance T] [--out FILE]
//   lmlab dp-epsilon --sigma S --q Q --steps T --delta D | dp-sigma --epsilon E --q Q --steps T --delta D
// Exit codes: 0 success, 2 usage or config error, 3 input/data error, 4 a claim's verdict changed
// (compare, reproduce --baseline), 1 anything else.
#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <optional>
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>

#include "lmlab/core/compare.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/job_pool.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/report.h"
#include "lmlab/core/run_dirs.h"
#include "lmlab/core/world.h"
#include "lmlab/train/data_parallel.h"
#include "lmlab/privacy/rdp_accountant.h"
#include "registry.h"

namespace fs = std::filesystem;
using namespace lmlab;

namespace {

int default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

// A --seed: decimal digits only, at most 2^64 - 1 (a sign or an overflow is refused, not wrapped).
uint64_t parse_seed(const std::string& text) {
  const bool digits = !text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos;
  errno = 0;
  const unsigned long long seed = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
  LMLAB_CHECK(digits && errno != ERANGE, UsageError, "--seed ", text,
              " is not a seed; pass an integer from 0 to 18446744073709551615");
  return seed;
}

void cmd_list() {
  for (const ExperimentDef& def : all_experiments())
    std::printf("%-34s %-28s %s%s\n", def.name.c_str(), def.paper.c_str(), def.description.c_str(),
                def.sweep ? " [sweep]" : "");
}

void cmd_info() {
  set_threads(default_threads());  // what `run` and `reproduce --jobs 1` use unless told otherwise
  for (const auto& [k, v] : environment_info()) std::printf("%-14s %s\n", k.c_str(), v.c_str());
  std::printf("%-14s %s\n", "world", world_from_env().describe().c_str());
  std::printf("%-14s %zu\n", "experiments", all_experiments().size());
}

// The run directories under `root` (lmlab/core/run_dirs.h); UsageError when there are none.
std::vector<std::string> runs_under(const std::string& root) {
  LMLAB_CHECK(fs::is_directory(root), UsageError, "'", root, "' is not a directory");
  const std::vector<std::string> dirs = find_run_dirs(root);
  LMLAB_CHECK(!dirs.empty(), UsageError, "'", root,
              "' holds no runs (no summary.json below it); pass a run directory or a reproduce directory");
  return dirs;
}

// Prints the comparison and writes its page; exit code 4 when a verdict changed.
int report_comparison(const Comparison& c, const std::string& html_path) {
  write_comparison_page(c, html_path);
  std::printf("%scomparison: %s\n", comparison_text(c).c_str(), html_path.c_str());
  return c.verdicts_changed() ? static_cast<int>(ExitCode::VerdictChanged) : 0;
}

// Runs `def` as one rank of `world`: with `share_points` its sweep points are shared out through
// `store` under `prefix` (RunOptions::share), otherwise every rank runs every point (data-parallel
// training). Rank 0 makes the run directory and passes its name on; every rank reports in the
// store when it is done, and rank 0 waits for all, so that no rank is left without the store.
RunOutcome run_shared(const ExperimentDef& def, RunOptions options, const World& world,
                      const c10::intrusive_ptr<c10d::Store>& store_ptr, bool share_points, const std::string& prefix) {
  c10d::Store& store = *store_ptr;
  const std::unique_ptr<PointShare> share = share_points ? store_point_share(store_ptr, prefix, world.rank) : nullptr;
  options.share = share.get();
  options.rank = world.rank;
  options.helper = world.rank != 0;
  const std::string dir_key = prefix + "dir";
  bool announced = false;
  auto done = [&] {
    store.add(prefix + "done", 1);
    if (world.rank == 0)
      while (store.add(prefix + "done", 0) < world.size) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  try {
    if (world.rank == 0) {
      options.started = [&](const std::string& dir) { set_text(store, dir_key, "dir:" + dir), announced = true; };
    } else {
      const std::string text = get_text(store, dir_key);  // waits for rank 0
      if (text.rfind("dir:", 0) != 0) {
        std::printf("rank %d: %s: rank 0 did not start the run (%s)\n", world.rank, def.name.c_str(), text.c_str());
        done();
        return RunOutcome{};
      }
      options.resume_dir = text.substr(4);
    }
    RunOutcome out = run_experiment(def, options);
    done();
    return out;
  } catch (const std::exception& e) {
    if (world.rank == 0 && !announced) set_text(store, dir_key, std::string("error: ") + e.what());
    done();
    throw;
  }
}

// Runs the experiments one after another in this process; one that fails is reported and the
// others still run. Returns the first failure's exit code. On several ranks (torchrun, srun) each
// run's sweep points, or with `data_parallel` each model's batches, are shared out across them.
int cmd_run(const std::vector<std::string>& names, const RunOptions& options, const World& world, bool data_parallel) {
  std::vector<const ExperimentDef*> defs;
  for (const std::string& name : names) defs.push_back(&find_experiment(name));  // all known before any runs
  // A week: rank 0 waits in the store for the others' last point.
  const c10::intrusive_ptr<c10d::Store> store =
      world.distributed() ? connect_store(world, std::chrono::hours(24 * 7)) : c10::intrusive_ptr<c10d::Store>();
  if (store && data_parallel) set_data_parallel_group(std::make_shared<DataParallelGroup>(world, store));
  int code = 0;
  for (size_t i = 0; i < defs.size(); ++i) {
    const ExperimentDef& def = *defs[i];
    try {
      const RunOutcome out =
          store ? run_shared(def, options, world, store, !data_parallel,
                             "lmlab/" + std::to_string(world.restart) + "/run/" + std::to_string(i) + "/")
                : run_experiment(def, options);
      if (world.rank != 0) {
        if (!out.dir.empty()) std::printf("rank %d: shared the points of %s\n", world.rank, out.dir.c_str());
        continue;
      }
      write_report({out.dir}, out.dir + "/report.html", "lmlab run " + def.name);
      std::printf("report: %s/report.html\n", out.dir.c_str());
      for (const std::string& p : out.problems) std::fprintf(stderr, "problem: %s\n", p.c_str());
      if (code == 0 && !out.problems.empty()) code = 1;
    } catch (const Error& e) {
      if (defs.size() == 1) throw;
      std::fprintf(stderr, "lmlab: error: %s: %s\n", def.name.c_str(), e.what());
      if (code == 0) code = static_cast<int>(e.exit_code());
    }
  }
  return code;
}

struct BaselineOptions {
  std::string dir;  // --baseline: an earlier reproduction to compare with; "" for none
  double tolerance = kDefaultTolerance;
};

// The reproduction in `out_dir` compared with the baseline, printed and written to compare.html;
// `code` becomes 4 when a verdict changed (unless it already says a run failed). An error is
// printed and put in `code`, not thrown, so that the report of the finished runs is still written.
std::optional<Comparison> compare_with_baseline(const BaselineOptions& baseline, const std::string& out_dir,
                                                int& code) {
  try {
    Comparison c = compare_runs(baseline.dir, out_dir, baseline.tolerance);
    std::printf("\n");
    const int compared = report_comparison(c, out_dir + "/compare.html");
    if (code == 0) code = compared;
    return c;
  } catch (const Error& e) {
    std::fprintf(stderr, "lmlab: error: comparing with --baseline %s: %s\n", baseline.dir.c_str(), e.what());
    code = static_cast<int>(e.exit_code());
    return std::nullopt;
  }
}

// Whether `name` matches one of the comma-separated globs of `globs`.
bool matches_any(const std::string& globs, const std::string& name) {
  std::stringstream list(globs);
  for (std::string glob; std::getline(list, glob, ',');)
    if (fnmatch(glob.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

// A group of a reproduction's experiments in a child process: `lmlab run NAME...` into the same
// directory layout as the in-process run, its terminal output in <out>/logs/<first NAME>.txt.
Job reproduce_job(const std::vector<const ExperimentDef*>& group, const RunOptions& options,
                  const std::string& max_memory) {
  std::vector<std::string> argv = {self_executable(), "run"};
  for (const ExperimentDef* def : group) argv.push_back(def->name);
  argv.insert(argv.end(), {"--seed", std::to_string(options.seed), "--threads", std::to_string(options.threads),
                           "--out", options.out_root});
  if (options.quick) argv.push_back("--quick");
  if (!max_memory.empty()) argv.insert(argv.end(), {"--max-memory", max_memory});
  return {argv, options.out_root + "/logs/" + group.front()->name + ".txt"};
}

// The experiments grouped by ExperimentDef::process_group, the longest group first (by
// quick_seconds). An experiment may reuse work done earlier in its process (the two 1-bit twin
// experiments train the same nets; icl.reweighting reuses icl.linear_regression's learner), so each
// group runs in one process. Starting the longest first keeps a long run from starting last while
// the other cores idle.
std::vector<std::vector<const ExperimentDef*>> process_groups(const std::vector<const ExperimentDef*>& selected) {
  std::vector<std::vector<const ExperimentDef*>> groups;
  for (const ExperimentDef* def : selected) {
    auto same = std::find_if(groups.begin(), groups.end(),
                             [&](const auto& g) { return !def->process_group.empty() && g.front()->process_group == def->process_group; });
    if (same == groups.end()) groups.push_back({def});
    else same->push_back(def);
  }
  auto seconds = [](const std::vector<const ExperimentDef*>& g) {
    double s = 0;
    for (const ExperimentDef* def : g) s += def->quick_seconds;
    return s;
  };
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) { return seconds(a) > seconds(b); });
  return groups;
}

// The last `lines` lines of a text file ("" when it cannot be read).
std::string tail_of(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "   | " + all[i] + "\n";
  return out;
}

struct ReproduceTally {
  int failed_runs = 0, claims = 0, passed = 0;
};

// Runs the selected experiments in child processes, `jobs` at a time (jobs >= 2).
ReproduceTally run_in_children(const std::vector<const ExperimentDef*>& selected, const RunOptions& options,
                               const std::string& max_memory, int jobs) {
  const std::vector<std::vector<const ExperimentDef*>> groups = process_groups(selected);
  std::vector<Job> list;
  for (const auto& group : groups) list.push_back(reproduce_job(group, options, max_memory));
  std::printf("%zu experiments, %d at a time, %d thread%s each; their output in %s/logs/\n", selected.size(), jobs,
              options.threads, options.threads == 1 ? "" : "s", options.out_root.c_str());
  std::fflush(stdout);
  ReproduceTally tally;
  size_t started = 0;
  run_jobs(
      list, jobs,
      [&](size_t i) {
        for (const ExperimentDef* def : groups[i])
          std::printf("== [%zu/%zu] %s started\n", ++started, selected.size(), def->name.c_str());
        std::fflush(stdout);
      },
      [&](size_t i, const JobResult& r) {
        for (const ExperimentDef* def : groups[i]) {
          const std::string root = options.out_root + "/" + def->name;
          const std::vector<std::string> dirs = fs::is_directory(root) ? find_run_dirs(root) : std::vector<std::string>{};
          const RunOutcome out = dirs.empty() ? RunOutcome{"", 0, 0, {}, 0, true} : read_run_outcome(dirs.back());
          tally.claims += out.claims;
          tally.passed += out.claims_passed;
          tally.failed_runs += out.failed;
          if (!out.failed)
            std::printf("   %s: %d/%d claims passed in %s\n", def->name.c_str(), out.claims_passed, out.claims,
                        Progress::format_seconds(out.wall_s).c_str());
          else
            std::fprintf(stderr, "experiment %s failed\n", def->name.c_str());
        }
        if (r.exit_code != 0)
          std::fprintf(stderr, "   (its process: %s after %s; the end of %s:)\n%s", r.how().c_str(),
                       Progress::format_seconds(r.wall_s).c_str(), list[i].log_path.c_str(),
                       tail_of(list[i].log_path, 8).c_str());
        std::fflush(stdout);
      });
  return tally;
}

// Runs one experiment in this process, adding its outcome to `tally`; a failure is recorded in its
// run directory and printed, and the other experiments still run.
void run_one(const ExperimentDef& def, const RunOptions& options, ReproduceTally& tally) {
  try {
    const RunOutcome out = run_experiment(def, options);
    tally.claims += out.claims;
    tally.passed += out.claims_passed;
  } catch (const std::exception& e) {
    ++tally.failed_runs;
    std::fprintf(stderr, "experiment %s failed: %s\n", def.name.c_str(), e.what());
  }
}

ReproduceTally run_in_process(const std::vector<const ExperimentDef*>& selected, const RunOptions& options) {
  ReproduceTally tally;
  for (size_t i = 0; i < selected.size(); ++i) {
    std::printf("== [%zu/%zu] %s\n", i + 1, selected.size(), selected[i]->name.c_str());
    std::fflush(stdout);
    run_one(*selected[i], options, tally);
  }
  return tally;
}

// This rank's share of a reproduction across the ranks of `world` (torchrun, srun): each rank takes
// the next group of experiments (process_groups' order, longest first) from a counter in the store,
// so a long experiment does not hold the other ranks idle, and runs it in this process, sharing its
// sweep points under the experiment's prefix. Once no group is left, the rank helps with the points
// of the experiments still running, longest first. Each rank adds its tally to the store; rank 0
// waits for every rank and returns the totals, the others their own.
ReproduceTally run_across_ranks(const std::vector<const ExperimentDef*>& selected, const RunOptions& options,
                                const World& world, const c10::intrusive_ptr<c10d::Store>& store) {
  const std::vector<std::vector<const ExperimentDef*>> groups = process_groups(selected);
  const std::string base = "lmlab/" + std::to_string(world.restart) + "/reproduce/";
  auto prefix = [&](const ExperimentDef& def) { return base + "run/" + def.name + "/"; };
  auto shared = [&](PointShare* share) {  // this rank's options for a run whose points `share` shares
    RunOptions o = options;
    o.share = share;
    o.rank = world.rank;
    return o;
  };
  ReproduceTally mine;
  for (int64_t i; (i = store->add(base + "next", 1) - 1) < static_cast<int64_t>(groups.size());)
    for (const ExperimentDef* def : groups[static_cast<size_t>(i)]) {
      std::printf("== rank %d: %s\n", world.rank, def->name.c_str());
      std::fflush(stdout);
      const std::unique_ptr<PointShare> share = store_point_share(store, prefix(*def), world.rank);
      RunOptions o = shared(share.get());
      o.started = [&](const std::string& dir) { set_text(*store, prefix(*def) + "dir", "dir:" + dir); };
      const int failed = mine.failed_runs;
      run_one(*def, o, mine);
      if (mine.failed_runs > failed && !store->check({prefix(*def) + "dir"})) set_text(*store, prefix(*def) + "dir", "failed");
      set_text(*store, prefix(*def) + "done", "1");
    }
  for (const auto& group : groups)
    for (const ExperimentDef* def : group) {
      if (store->check({prefix(*def) + "done"})) continue;
      const std::string dir = get_text(*store, prefix(*def) + "dir");  // waits until its rank has made it
      if (dir.rfind("dir:", 0) != 0 || store->check({prefix(*def) + "done"})) continue;
      std::printf("== rank %d: helping with %s\n", world.rank, def->name.c_str());
      std::fflush(stdout);
      const std::unique_ptr<PointShare> share = store_point_share(store, prefix(*def), world.rank);
      RunOptions o = shared(share.get());
      o.helper = true;
      o.resume_dir = dir.substr(4);
      try {
        run_experiment(*def, o);
      } catch (const std::exception& e) {  // the experiment's own rank reports it
        std::fprintf(stderr, "rank %d: helping with %s: %s\n", world.rank, def->name.c_str(), e.what());
      }
    }
  store->add(base + "failed", mine.failed_runs);
  store->add(base + "claims", mine.claims);
  store->add(base + "passed", mine.passed);
  store->add(base + "finished", 1);
  if (world.rank != 0) return mine;
  while (store->add(base + "finished", 0) < world.size) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return {static_cast<int>(store->add(base + "failed", 0)), static_cast<int>(store->add(base + "claims", 0)),
          static_cast<int>(store->add(base + "passed", 0))};
}

int cmd_reproduce(RunOptions options, const std::string& only, std::string out_dir, const BaselineOptions& baseline,
                  int jobs, const std::string& max_memory, const World& world) {
  if (out_dir.empty()) {
    char stamp[32];
    std::time_t t = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&t));
    out_dir = std::string("runs/reproduce/") + stamp + (options.quick ? "-quick" : "-full");
  }
  std::vector<const ExperimentDef*> selected;
  for (const ExperimentDef& def : all_experiments())
    if (only.empty() || matches_any(only, def.name)) selected.push_back(&def);
  LMLAB_CHECK(!selected.empty(), UsageError, "--only '", only, "' matches no experiment (see lmlab list)");
  if (!baseline.dir.empty()) read_run_set(baseline.dir);  // refused before any experiment runs
  set_threads(options.threads);  // an out-of-range count is refused here, not once per child

  ReproduceTally tally;
  if (world.distributed()) {
    // A week: rank 0 waits in the store for the others' last experiment.
    const c10::intrusive_ptr<c10d::Store> store = connect_store(world, std::chrono::hours(24 * 7));
    const std::string out_key = "lmlab/" + std::to_string(world.restart) + "/reproduce/out";
    // Every rank writes into rank 0's directory (its default name has a time in it).
    if (world.rank == 0) set_text(*store, out_key, out_dir);
    else out_dir = get_text(*store, out_key);
    options.out_root = out_dir;
    tally = run_across_ranks(selected, options, world, store);
    if (world.rank != 0) {
      std::printf("rank %d: %d of its experiments failed to run; rank 0 writes the report in %s\n", world.rank,
                  tally.failed_runs, out_dir.c_str());
      return tally.failed_runs == 0 ? 0 : 1;
    }
  } else {
    options.out_root = out_dir;
    jobs = std::min<int>(jobs, static_cast<int>(selected.size()));
    tally = jobs > 1 ? run_in_children(selected, options, max_memory, jobs) : run_in_process(selected, options);
  }
  const std::vector<std::string> dirs = runs_under(out_dir);
  write_claims_json(dirs, out_dir + "/claims.json");
  int code = tally.failed_runs == 0 ? 0 : 1;
  const std::optional<Comparison> comparison =
      baseline.dir.empty() ? std::nullopt : compare_with_baseline(baseline, out_dir, code);
  write_report(dirs, out_dir + "/report.html",
               std::string("lmlab reproduce (") + (options.quick ? "quick" : "full") + ")",
               {comparison ? &*comparison : nullptr, {}});
  std::printf("\n%d/%d claims passed, %d of %zu experiments failed to run\nreport: %s/report.html\n", tally.passed,
              tally.claims, tally.failed_runs, selected.size(), out_dir.c_str());
  return code;
}

// With two or more reproductions below `dir`, the report of the newest with the history of all;
// otherwise the report of every run below `dir`.
int cmd_report(const std::string& dir) {
  const std::vector<std::string> dirs = runs_under(dir);  // refuses a directory without runs
  const std::vector<std::string> history = find_reproductions(dir);
  if (history.size() >= 2) {
    write_report(runs_under(history.back()), dir + "/report.html",
                 "lmlab report " + dir + ": " + std::to_string(history.size()) + " reproductions", {nullptr, history});
    std::printf("report: %s/report.html (the newest of %zu reproductions, with their history)\n", dir.c_str(),
                history.size());
    return 0;
  }
  write_report(dirs, dir + "/report.html", "lmlab report " + dir);
  if (dirs.size() > 1) write_claims_json(dirs, dir + "/claims.json");
  std::printf("report: %s/report.html (%zu runs)\n", dir.c_str(), dirs.size());
  return 0;
}

int cmd_compare(const std::string& dir_a, const std::string& dir_b, double tolerance, std::string out) {
  const Comparison c = compare_runs(dir_a, dir_b, tolerance);
  return report_comparison(c, out.empty() ? dir_b + "/compare.html" : out);
}

// DP-SGD's privacy (lmlab/privacy/rdp_accountant.h): NaN marks a flag not given.
struct DpArgs {
  double sigma = NAN, epsilon = NAN, q = NAN, delta = NAN;
  int64_t steps = 0;
};

void add_dp_options(CLI::App* cmd, DpArgs& a, bool sigma) {
  if (sigma) cmd->add_option("--sigma", a.sigma, "Noise multiplier (noise std / clipping norm)")->required();
  else cmd->add_option("--epsilon", a.epsilon, "Target epsilon")->required();
  cmd->add_option("--q", a.q, "Poisson sampling rate (expected batch / dataset size), in (0, 1]")->required();
  cmd->add_option("--steps", a.steps, "Number of DP-SGD steps, >= 1")->required();
  cmd->add_option("--delta", a.delta, "Target delta, in (0, 1)")->required();
}

int cmd_dp_epsilon(const DpArgs& a) {
  const privacy::PrivacySpent s = privacy::dp_sgd_epsilon(a.sigma, a.q, a.steps, a.delta);
  std::printf("epsilon %.10g\norder %g\n", s.epsilon, s.order);
  return 0;
}

int cmd_dp_sigma(const DpArgs& a) {
  std::printf("sigma %.10g\n", privacy::dp_sgd_noise_multiplier(a.epsilon, a.q, a.steps, a.delta));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  use_passive_omp_wait(argv);
  keep_freed_memory();
  CLI::App app{"lmlab: run the experiments of ten language-model theory papers and check their claims"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("lmlab ") + environment_info().front().second);

  app.add_subcommand("list", "List the experiments");
  app.add_subcommand("info", "Show versions, BLAS, threads and SIMD level");

  RunOptions options;
  options.threads = default_threads();
  std::vector<std::string> names;
  std::string resume;
  CLI::App* run = app.add_subcommand("run", "Run one experiment (or several, one after another) into "
                                            "runs/NAME/<timestamp>-s<seed>/");
  run->add_option("names", names, "Experiment name (see lmlab list); several run one after another")->required();
  run->add_option("--config", options.config_file, "TOML file with config overrides")->check(CLI::ExistingFile);
  run->add_option("--set", options.sets, "Override one config key: key=value (repeatable)");
  std::string run_seed = "1", rep_seed = "1", max_memory;
  const std::string memory_help = "The memory a run may plan to use, e.g. 16G (default: 80% of physical memory, " +
                                  format_bytes(static_cast<double>(memory_limit())) + " here); a model or data set "
                                  "that would need more is refused before it is allocated";
  CLI::Option* run_seed_option = run->add_option("--seed", run_seed, "Random seed")->capture_default_str();
  CLI::Option* run_threads = run->add_option("--threads", options.threads, "LibTorch intra-op threads (and OpenBLAS threads)")->capture_default_str()->check(CLI::PositiveNumber);
  CLI::Option* run_quick = run->add_flag("--quick", options.quick, "Use the experiment's quick settings");
  CLI::Option* run_out = run->add_option("--out", options.out_root, "Root directory for runs")->capture_default_str();
  run->add_option("--max-memory", max_memory, memory_help);
  run->add_option("--resume", resume, "Continue an interrupted sweep run in this directory")->check(CLI::ExistingDirectory);
  bool data_parallel = false;
  run->add_flag("--data-parallel", data_parallel,
                "Under torchrun or srun: train each model on all ranks together (sharded batches, gradients averaged) "
                "instead of sharing the sweep points out");

  RunOptions rep_options;
  rep_options.threads = default_threads();
  rep_options.quick = true;
  bool full = false;
  std::string only, rep_out;
  CLI::App* reproduce = app.add_subcommand("reproduce", "Run every experiment's claims and write report.html");
  auto* quick_flag = reproduce->add_flag("--quick", "Quick settings, about 3 minutes on 2 cores (default)");
  reproduce->add_flag("--full", full, "Paper-scale settings")->excludes(quick_flag);
  reproduce->add_option("--only", only, "Only experiments whose name matches this glob, or one of these comma-separated globs, e.g. 'foundation.*,onebit.*'");
  reproduce->add_option("--seed", rep_seed, "Random seed")->capture_default_str();
  reproduce->add_option("--max-memory", max_memory, memory_help);
  CLI::Option* rep_threads =
      reproduce->add_option("--threads", rep_options.threads, "LibTorch intra-op threads (and OpenBLAS threads) of each "
                            "experiment (default: the cores shared out among the jobs)")->check(CLI::PositiveNumber);
  int jobs = 0;
  CLI::Option* jobs_option =
      reproduce->add_option("--jobs", jobs, "Experiments run at once, each in its own process (default: one per core "
                            "over --threads; 1 runs them one after another in this process)")->check(CLI::PositiveNumber);
  CLI::Option* rep_out_option =
      reproduce->add_option("--out", rep_out, "Output directory (default runs/reproduce/<timestamp>-<mode>)");
  BaselineOptions baseline;
  reproduce->add_option("--baseline", baseline.dir,
                        "Compare with this earlier reproduction: compare.html, the comparison in report.html, "
                        "exit code 4 when a claim's verdict changed");
  reproduce->add_option("--tolerance", baseline.tolerance,
                        "With --baseline: relative change up to which a result counts as unchanged")
      ->capture_default_str();

  std::string report_dir;
  CLI::App* report = app.add_subcommand(
      "report", "Write report.html for a run, a reproduce directory, or several reproductions (with their history)");
  report->add_option("dir", report_dir, "Run directory, reproduce directory, or a directory of reproductions")
      ->required();

  std::string compare_a, compare_b, compare_out;
  double compare_tolerance = kDefaultTolerance;
  CLI::App* compare = app.add_subcommand(
      "compare", "Compare two run or reproduce directories: changed verdicts, values, config, plots (exit 4 when a "
                 "verdict changed)");
  compare->add_option("dir_a", compare_a, "The baseline: a run or reproduce directory")->required();
  compare->add_option("dir_b", compare_b, "The run or reproduce directory to compare with it")->required();
  compare->add_option("--tolerance", compare_tolerance, "Relative change up to which a value counts as unchanged")
      ->capture_default_str();
  compare->add_option("--out", compare_out, "Where to write the page (default DIR_B/compare.html)");

  DpArgs dp_eps, dp_sig;
  add_dp_options(app.add_subcommand("dp-epsilon", "DP-SGD's (epsilon, delta): RDP accountant, best order"), dp_eps, true);
  add_dp_options(app.add_subcommand("dp-sigma", "DP-SGD's noise multiplier for a target epsilon"), dp_sig, false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, version or the parse error
    return code == 0 ? 0 : static_cast<int>(ExitCode::Usage);
  }

  try {
    if (!max_memory.empty()) set_memory_limit(parse_bytes(max_memory));
    if (app.got_subcommand("list")) return cmd_list(), 0;
    if (app.got_subcommand("info")) return cmd_info(), 0;
    if (app.got_subcommand("report")) return cmd_report(report_dir);
    if (app.got_subcommand("compare")) return cmd_compare(compare_a, compare_b, compare_tolerance, compare_out);
    if (app.got_subcommand("dp-epsilon")) return cmd_dp_epsilon(dp_eps);
    if (app.got_subcommand("dp-sigma")) return cmd_dp_sigma(dp_sig);
    if (app.got_subcommand("run")) {
      const World world = world_from_env();
      if (!resume.empty()) {
        LMLAB_CHECK(options.sets.empty() && options.config_file.empty(), UsageError,
                    "--resume keeps the run's own config.toml; drop --set and --config");
        LMLAB_CHECK(run_seed_option->count() + run_quick->count() + run_out->count() == 0, UsageError,
                    "--resume continues the run in its own directory with its own seed and mode; drop --seed, "
                    "--quick and --out");
      }
      options.seed = parse_seed(run_seed);
      options.resume_dir = resume;
      if (!resume.empty() && run_threads->count() == 0) options.threads = 0;  // the run's own, from run.json
      // Each rank of a node computes on its share of the node's cores.
      else if (world.distributed() && run_threads->count() == 0)
        options.threads = std::max(1, default_threads() / world.local_size);
      LMLAB_CHECK(names.size() == 1 || (options.sets.empty() && options.config_file.empty() && resume.empty()),
                  UsageError, "--set, --config and --resume apply to one experiment; run the experiments one at a time");
      if (data_parallel && !world.distributed())
        std::printf("note: --data-parallel on one process has no other rank to share a batch with\n");
      return cmd_run(names, options, world, data_parallel);
    }
    rep_options.quick = !full;
    rep_options.seed = parse_seed(rep_seed);
    LMLAB_CHECK(rep_out_option->count() == 0 || !rep_out.empty(), UsageError,
                "--out is empty; name the directory for the reproduction or leave --out out");
    // The tiny models gain little from a second thread, while experiments side by side scale with the
    // cores (docs/foundation.md): by default one single-threaded experiment per core.
    // Under torchrun or srun each rank runs one experiment at a time, on its share of the node's cores.
    const World world = world_from_env();
    const int cores = default_threads();
    if (world.distributed()) jobs = 1;
    else if (jobs_option->count() == 0) jobs = std::max(1, cores / (rep_threads->count() ? rep_options.threads : 1));
    if (rep_threads->count() == 0) rep_options.threads = std::max(1, cores / (world.distributed() ? world.local_size : jobs));
    return cmd_reproduce(rep_options, only, rep_out, baseline, jobs, max_memory, world);
  } catch (const Error& e) {
    std::fprintf(stderr, "lmlab: error: %s\n", e.what());
    return static_cast<int>(e.exit_code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmlab: error: %s\n", e.what());
    return static_cast<int>(ExitCode::Failure);
  }
}
