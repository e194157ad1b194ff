// Running one experiment into its run directory (include/lmlab/core/runner.h).
#include "lmlab/core/runner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>

#include <torch/torch.h>

#include "core/build_info.h"
#include "core/files.h"
#include "core/json_value.h"
#include "core/run_record.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab {
namespace {

std::string utc_time(std::time_t t, const char* format) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// A fresh directory <root>/<name>/<timestamp>-s<seed>[-N].
std::string new_run_dir(const std::string& root, const std::string& name, uint64_t seed) {
  const std::string base = root + "/" + name + "/" + utc_time(std::time(nullptr), "%Y%m%d-%H%M%S") +
                           "-s" + std::to_string(seed);
  make_directories(root + "/" + name);
  std::string dir = base;
  // mkdir claims a name atomically: two runs started in the same second get distinct directories.
  for (int n = 2; ::mkdir(dir.c_str(), 0755) != 0; ++n) {
    LMLAB_CHECK(errno == EEXIST, DataError, "cannot create directory '", dir, "': ", std::strerror(errno),
                ". Choose a writable location (for runs: --out DIR)");
    dir = base + "-" + std::to_string(n);
  }
  return dir;
}

// Removes the temporary files that an interrupted write left behind: NAME.tmp.PID of
// write_file_atomic and NAME.tmp-PID-N of a plot.
void remove_stale_temporaries(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp");
    if (at != std::string::npos && at + 5 < name.size() && (name[at + 4] == '.' || name[at + 4] == '-') &&
        name.find_first_not_of("0123456789-", at + 5) == std::string::npos)
      std::filesystem::remove(entry.path());
  }
}

Json claim_json(const Claim& c) {
  return Json{{"id", c.id},           {"statement", c.statement},
              {"measured", c.measured}, {"comparator", comparator_symbol(c.comparator)},
              {"threshold", c.threshold}, {"passed", c.passed},
              {"plot", c.plot}};
}

Json config_json(const Config& config) {
  Json j = Json::object();
  for (const auto& [k, v] : config.values()) j[k] = to_json(v);
  return j;
}

struct Manifest {
  std::string experiment;
  uint64_t seed;
  bool quick;
  bool sweep;
  int threads;  // the run's intra-op threads; 0 in runs made before it was recorded
};

Manifest read_manifest(const std::string& dir) {
  const std::string path = dir + "/run.json";
  LMLAB_CHECK(file_exists(path), UsageError, "--resume ", dir,
              ": not an lmlab run directory (no run.json). Pass a directory under runs/NAME/");
  try {
    const Json j = Json::parse(read_file(path));
    return {j.at("experiment").get<std::string>(), j.at("seed").get<uint64_t>(), j.at("quick").get<bool>(),
            j.at("sweep").get<bool>(), j.value("threads", 0)};
  } catch (const Json::exception& e) {
    throw DataError(path + " is damaged (" + e.what() + "); start a new run instead of resuming");
  }
}

void write_summary(const ExperimentDef& def, const RunContext& ctx, const std::string& started,
                   double wall_s, const std::string& error) {
  Json results = Json::object();
  for (const auto& [k, v] : ctx.results()) results[k] = to_json(v);
  Json claims = Json::array();
  for (const Claim& c : ctx.claims()) claims.push_back(claim_json(c));
  Json env = Json::object();
  for (const auto& [k, v] : environment_info()) env[k] = v;
  Json s{{"experiment", def.name},
         {"paper", def.paper},
         {"paper_title", def.paper_title},
         {"version", build_version()},
         {"git_sha", build_git_sha()},
         {"seed", ctx.seed()},
         {"quick", ctx.quick()},
         {"status", !error.empty() ? "failed" : ctx.problems().empty() ? "ok" : "problems"},
         {"started", started},
         {"finished", utc_time(std::time(nullptr), "%Y-%m-%dT%H:%M:%SZ")},
         {"wall_s", wall_s},
         {"config", config_json(ctx.config())},
         {"results", results},
         {"claims", claims},
         {"problems", ctx.problems()},
         {"environment", env}};
  if (!error.empty()) s["error"] = error;
  write_file_atomic(ctx.path("summary.json"), dump_json(s, 2) + "\n");
}

}  // namespace

namespace {

// The one layering of every run's config: the defaults, [quick] when quick, the TOML file
// `overrides` when given, then the key=value `sets`.
Config layer_config(const ExperimentDef& def, bool quick, const std::string& overrides,
                    const std::vector<std::string>& sets) {
  Config config = Config::from_toml(def.default_config, "defaults of " + def.name);
  if (quick) config.apply_quick();
  if (!overrides.empty()) config.merge_toml(read_file(overrides), overrides);
  for (const std::string& s : sets) config.set(s);
  return config;
}

}  // namespace

Config resolve_config(const ExperimentDef& def, const RunOptions& options) {
  LMLAB_CHECK(options.config_file.empty() || file_exists(options.config_file), UsageError, "--config ",
              options.config_file, ": no such file");
  return layer_config(def, options.quick, options.config_file, options.sets);
}

namespace {

// Marks the run FAILED when a signal kills it (torchrun stops the other ranks with SIGTERM when one
// dies), so that the directory says why it stopped and that --resume continues it. Only
// async-signal-safe calls in the handler; the disposition before is restored on leaving.
class KillMark {
 public:
  explicit KillMark(const std::string& dir) {
    const std::string path = dir + "/FAILED";
    LMLAB_ASSERT(path.size() < sizeof path_, "run directory path too long: ", dir);
    std::memcpy(path_, path.c_str(), path.size() + 1);
    struct sigaction a {};
    a.sa_handler = &KillMark::handle;
    sigemptyset(&a.sa_mask);
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &a, &before_[i]);
  }
  ~KillMark() {
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &before_[i], nullptr);
  }
  KillMark(const KillMark&) = delete;
  KillMark& operator=(const KillMark&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals{SIGTERM, SIGINT, SIGHUP};
  static void handle(int sig) {
    static const char text[] =
        "killed by a signal (SIGTERM, SIGINT or SIGHUP; torchrun sends SIGTERM to every rank when one fails); "
        "a sweep continues with lmlab run NAME --resume DIR\n";
    const int fd = ::open(path_, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(fd, text, sizeof text - 1);
      ::close(fd);
    }
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
  static inline char path_[4096];
  std::array<struct sigaction, 3> before_{};
};

// The points files of the other ranks of a run made on several ranks: <dir>/points.jsonl and
// <dir>/ranks/rank<R>/points.jsonl, except `own_dir`'s.
std::vector<std::string> other_points_files(const std::string& dir, const std::string& own_dir) {
  std::vector<std::string> files;
  if (own_dir != dir) files.push_back(dir + "/points.jsonl");
  if (std::filesystem::is_directory(dir + "/ranks"))
    for (const auto& entry : std::filesystem::directory_iterator(dir + "/ranks"))
      if (entry.path().string() != own_dir) files.push_back((entry.path() / "points.jsonl").string());
  std::sort(files.begin(), files.end());
  return files;
}

// The error of the body's exception `e`, recorded and rethrown as the error the user sees.
[[noreturn]] void rethrow_failure(std::exception_ptr e, const RunContext& ctx,
                                  const std::function<void(const std::string&)>& record) {
  try {
    std::rethrow_exception(e);
  } catch (const c10::Error& e) {  // LibTorch's message, without its C++ backtrace
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") == std::string::npos) {
      record("LibTorch: " + what);
      throw InternalError("LibTorch: " + what);
    }
    const UsageError oom("out of memory (" + what.substr(0, what.find('\n')) +
                         "); lower the sizes in the config (widths, batch, context, sweep) or free memory");
    record(oom.what());
    throw oom;
  } catch (const SweepRowError& e) {
    if (ctx.reused_points() == 0) {
      record(e.what());
      throw;
    }
    const DataError damaged(std::string(e.what()) + ", in a point read back from " + ctx.dir() +
                            "/points.jsonl: the file is damaged; delete its damaged lines or start a new run");
    record(damaged.what());
    throw damaged;
  } catch (const std::exception& e) {
    record(e.what());
    throw;
  }
}

}  // namespace

RunOutcome run_experiment(const ExperimentDef& def, const RunOptions& options) {
  const bool helper = options.helper;
  LMLAB_ASSERT(!helper || !options.resume_dir.empty(), "a helper needs the run's directory");
  std::string dir;
  Config config;
  uint64_t seed = options.seed;
  bool quick = options.quick;
  int threads = options.threads;
  std::string thread_note;
  if (!options.resume_dir.empty()) {
    dir = options.resume_dir;
    const Manifest m = read_manifest(dir);
    LMLAB_CHECK(m.experiment == def.name, UsageError, "--resume ", dir, " is a run of '", m.experiment,
                "', not of '", def.name, "'");
    if (helper && !m.sweep && options.share) return RunOutcome{dir, 0, 0, {}};  // no points to share: one rank runs it
    LMLAB_CHECK(m.sweep || helper, UsageError, "--resume ", dir, ": '", def.name,
                "' is not a sweep, so there are no finished points to keep; start a new run");
    seed = m.seed;
    quick = m.quick;
    // Results depend on the thread count (reduction order), so a resumed run keeps the run's own.
    const int most = max_threads();
    if (threads <= 0 && m.threads > most) {  // recorded on a larger machine
      threads = most;
      thread_note = "note: the run started with " + std::to_string(m.threads) + " threads, more than this machine " +
                    "takes; it resumes with " + std::to_string(most) + ", so new points may differ in the last bits";
    } else if (threads <= 0) {
      threads = m.threads;
    } else if (m.threads > 0 && threads != m.threads)
      thread_note = "note: the run started with " + std::to_string(m.threads) + " threads and resumes with " +
                    std::to_string(threads) + "; the points computed now may differ in the last bits from an "
                    "uninterrupted run";
    config = layer_config(def, quick, dir + "/config.toml", {});  // the resolved config it started with
    make_directories(dir);
    if (threads > 0) set_threads(threads);
  } else {
    LMLAB_CHECK(!options.out_root.empty(), UsageError,
                "--out is empty; name the directory for the runs (default: runs)");
    config = resolve_config(def, options);
    if (threads > 0) set_threads(threads);  // refuses a thread count out of range before the run exists
    dir = new_run_dir(options.out_root, def.name, seed);
    Json manifest{{"experiment", def.name}, {"seed", seed}, {"quick", quick}, {"sweep", def.sweep},
                  {"threads", threads > 0 ? threads : at::get_num_threads()}};
    write_file_atomic(dir + "/config.toml", config.to_toml());
    write_file_atomic(dir + "/run.json", dump_json(manifest, 2) + "\n");  // last: it marks a run that can resume
  }
  if (options.started) options.started(dir);
  // A helper rank keeps its log and its points in a directory of its own.
  const std::string work = helper ? dir + "/ranks/rank" + std::to_string(options.rank) : dir;
  make_directories(work);
  const DirectoryLock lock(work);
  std::filesystem::remove(work + "/FAILED");
  remove_stale_temporaries(work);  // of writes a kill interrupted
  const KillMark kill_mark(work);

  // One pass of the body; several when ranks share the points (run.h).
  auto pass = [&] {
    seed_everything(seed);
    auto ctx = std::make_unique<RunContext>(work, config, seed, quick);
    for (const std::string& file : other_points_files(dir, work)) ctx->reuse_points_from(file);
    ctx->share_points(options.share, !helper);  // the run's own rank adopts the points of the others' files too
    if (helper) ctx->act_as_helper();
    return ctx;
  };
  std::unique_ptr<RunContext> ctx = pass();
  ctx->log("lmlab run " + def.name + (quick ? " (quick)" : "") + " seed " + std::to_string(seed) +
           " threads " + std::to_string(at::get_num_threads()) + " -> " + dir +
           (helper ? " (rank " + std::to_string(options.rank) + (options.share ? ": sharing its sweep points)" : ": data-parallel)")
                  : ""));
  if (!thread_note.empty()) ctx->log(thread_note);

  const std::string started = utc_time(std::time(nullptr), "%Y-%m-%dT%H:%M:%SZ");
  const auto t0 = std::chrono::steady_clock::now();
  auto wall = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  // Best effort: when the failure is the disk itself, recording it fails too, and the error the
  // caller sees stays the first one.
  auto record_failure = [&](const std::string& error) {
    try {
      write_file_atomic(work + "/FAILED", error + "\n");
      if (!helper) write_summary(def, *ctx, started, wall(), error);
      ctx->log("run failed after " + Progress::format_seconds(wall()) + ": " + error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "lmlab: the failure could not be recorded in %s: %s\n", work.c_str(), e.what());
    }
  };
  auto wait_for = [&](const std::set<std::string>& keys) {
    try {
      for (const std::string& key : keys) options.share->wait(key);
    } catch (const std::exception& e) {  // the point failed on another rank
      record_failure(e.what());
      throw;
    }
  };
  for (;; ctx = pass()) {  // `continue` passes again
    try {
      def.body(*ctx);
    } catch (const PointPending& p) {  // another rank computes it: wait, then pass again
      wait_for({p.key()});
      continue;
    } catch (...) {
      // After a pending row, an error may come from a value that is not there yet: pass again once
      // the pending points are finished; an error it meets again then is real.
      if (ctx->pending().empty() || ctx->point_failed()) rethrow_failure(std::current_exception(), *ctx, record_failure);
      wait_for(ctx->pending());
      continue;
    }
    // The run's own rank passes again for the points still pending, to store them and write the
    // results with them; a helper leaves them to it.
    if (ctx->pending().empty() || helper) break;
    wait_for(ctx->pending());
  }
  if (helper) {
    ctx->log("rank " + std::to_string(options.rank) + " finished its share in " + Progress::format_seconds(wall()));
    return RunOutcome{dir, 0, 0, {}, wall()};
  }
  write_summary(def, *ctx, started, wall(), "");

  RunOutcome out{dir, static_cast<int>(ctx->claims().size()), 0, ctx->problems(), wall()};
  for (const Claim& c : ctx->claims()) out.claims_passed += c.passed;
  ctx->log("finished in " + Progress::format_seconds(wall()) + ": " + std::to_string(out.claims_passed) + "/" +
           std::to_string(out.claims) + " claims passed; summary in " + dir + "/summary.json");
  return out;
}

RunOutcome read_run_outcome(const std::string& dir) {
  const RunRecord run = load_run(dir);
  RunOutcome out{dir, 0, 0, {}, run.wall_s(), run.is_failed() || !run.unreadable.empty()};
  const Json& claims = member(run.summary, "claims");
  if (!claims.is_array()) return out;
  for (const Json& c : claims) {
    ++out.claims;
    out.claims_passed += member(c, "passed") == true;
  }
  return out;
}

}  // namespace lmlab
