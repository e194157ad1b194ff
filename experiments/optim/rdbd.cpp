// optim.rdbd: RDBD against delta-bar-delta, hypergradient descent and a fixed lr (P8, arXiv
// 2310.11291, Song, Yang; RDBD is our reading, NOTES.md P8 [ours]), over SGD and Adam.
//
// Tasks (tasks.h; each a config section): (a) "noisy", least squares L(w) = 1/(2n) ||X w - y||^2
// with mini-batches of noisy.batch points drawn with replacement; (b) "full", the same problem
// with the whole data set each step; (c) the Fashion-MNIST MLP and the byte-level GPT on
// fortunes. Each base starts at <task>.lr_<base> under each lr rule (lmlab/optim/: DeltaBarDelta,
// RDBD, Hypergradient through PluggedOptimizer; one lr for the one parameter group). Delta-bar-delta's
// additive increase and the lr bounds are fractions of the starting lr (dbd.kappa, dbd.lr_min,
// dbd.lr_max), so one setting serves every task and base; hypergradient descent's beta is per task
// and base (<task>.hd_beta_<base>: its scale is lr / squared gradient norm). Measured every
// <task>.eval_every steps: the objective (least squares: L(w) - L(w_ls); the others: training
// loss), the lr and the training wall time; median over seeds. A run whose loss overflows or
// exceeds 1000 times its start diverged (infinite from there on).
//
// Claims, over SGD (the paper: delta-bar-delta "may encounter convergence issues in mini-batch
// optimization due to noisy gradients"; RDBD "allows for prompt correction of biased learning rate
// adjustments and ensures the convergence"):
//  * noisy mini-batches: RDBD's final excess loss is below delta-bar-delta's (median ratio < 1);
//  * full batches, where delta-bar-delta is strong: RDBD needs at most 10% more steps than it to
//    reach the excess loss full.target (median ratio <= 1.1). Steps to a target, not the final
//    loss: with full batches both reach rounding level, where a ratio says nothing.
// Adam, the MLP and the GPT are reported, not claimed.
#include <algorithm>
#include <cmath>
#include <map>

#include "common/curves.h"
#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "optim/tasks.h"
#include "registry.h"

namespace lmlab {
namespace {

optim::PluggedOptimizerOptions method_options(const Config& cfg, const std::string& task, const std::string& base,
                                              const std::string& method) {
  const double lr = task_lr(cfg, task, base);
  const auto bounds =
      optim::LrBounds().lr_min(cfg.get_float("dbd.lr_min") * lr).lr_max(cfg.get_float("dbd.lr_max") * lr);
  LMLAB_CHECK(method == "fixed" || method == "dbd" || method == "rdbd" || method == "hd", UsageError,
              "unknown method '", method, "'; use fixed, dbd, rdbd or hd");
  const std::string beta_key = task + ".hd_beta_" + base;
  LMLAB_CHECK(method != "hd" || cfg.has(beta_key), UsageError, "method hd needs ", beta_key,
              ", hypergradient descent's lr for that task and base");
  return base_options(base, lr)
      .lr_adapter(method == "fixed" ? "none" : method)
      .dbd(optim::DeltaBarDeltaOptions()
               .kappa(cfg.get_float("dbd.kappa") * lr)
               .phi(cfg.get_float("dbd.phi"))
               .theta(cfg.get_float("dbd.theta"))
               .bounds(bounds))
      .hd(optim::HypergradientOptions().beta(method == "hd" ? cfg.get_float(beta_key) : 0.0).bounds(bounds));
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  const StringList tasks = cfg.get_string_list("tasks"), bases = cfg.get_string_list("bases"),
                   methods = cfg.get_string_list("methods");
  LMLAB_CHECK(!seeds.empty(), UsageError, "need >= 1 seed");
  const auto has = [](const StringList& l, const char* x) { return std::find(l.begin(), l.end(), x) != l.end(); };
  LMLAB_CHECK(has(methods, "dbd") && has(methods, "rdbd") && has(bases, "sgd") && has(tasks, "noisy") &&
                  has(tasks, "full"),
              UsageError, "the claims compare rdbd with dbd over sgd on the noisy and full tasks: keep them in methods, "
                          "bases and tasks");
  // Every value the runs read, before any work.
  LMLAB_CHECK(std::isfinite(cfg.get_float("full.target")) && cfg.get_float("full.target") > 0, UsageError,
              "full.target must be finite and > 0; got ", cfg.get_float("full.target"));
  for (const auto& task : tasks) {
    task_settings(cfg, task);
    for (const auto& base : bases)
      for (const auto& method : methods) method_options(cfg, task, base, method).validate();
  }

  Progress bar("runs", static_cast<int64_t>(tasks.size() * bases.size() * methods.size() * seeds.size()), ctx.log_sink());
  std::map<std::string, double> final_median, steps_median;  // "task/base/method"
  for (const auto& section : tasks) {
    const TaskSettings st = task_settings(cfg, section);
    std::map<std::string, std::vector<Row>> rows;  // "base/method"
    OptimTask task;
    for (const int64_t s : seeds) {
      const std::string tag = "-" + std::to_string(s);
      // noisy and full share their least-squares draw per seed
      task = make_optim_task(st.problem, cfg, derive_seed(ctx.seed(), st.problem + tag));
      for (const auto& base : bases)
        for (const auto& method : methods) {
          const std::string key = "task=" + section + ",base=" + base + ",method=" + method + ",seed=" + std::to_string(s);
          rows[base + "/" + method].push_back(ctx.sweep_point(key, [&] {
            return run_task(task, st, method_options(cfg, section, base, method), derive_seed(ctx.seed(), "model" + tag),
                            derive_seed(ctx.seed(), "batches" + tag));
          }));
          bar.advance(1, key);
        }
    }
    for (const auto& base : bases) {
      std::vector<MethodRuns> runs;
      std::vector<Series> lrs;
      for (const auto& method : methods) {
        const std::string m = base + "/" + method;
        runs.push_back({method, rows[m]});
        final_median[section + "/" + m] = median_of(column(rows[m], "final"));
        std::vector<double> steps;  // each seed's first evaluated step at or below full.target
        for (const Row& r : rows[m])
          steps.push_back(first_x_at_or_below(std::get<FloatList>(row_value(r, "objective")),
                                              cfg.get_float("full.target"), static_cast<double>(st.every)));
        steps_median[section + "/" + m] = median_of(steps);
        if (section == "full") ctx.result("full." + base + "." + method + ".steps_to_target", steps_median[section + "/" + m]);
        lrs.push_back(median_curve(rows[m], "lrs", static_cast<double>(st.every), method));
      }
      const std::string what = section + ", " + base + (st.batch ? ", batches of " + std::to_string(st.batch) : ", full batches");
      report_methods(ctx, task, st, section + "." + base, what, section + "_" + base, runs);
      ctx.plot(LinePlot(what + ": learning rate (median over seeds)", "step", "lr").log_y().with(lrs), section + "_" + base + "_lr");
    }
  }
  const double noisy_ratio = final_median["noisy/sgd/rdbd"] / final_median["noisy/sgd/dbd"];
  const double full_ratio = steps_median["full/sgd/rdbd"] / steps_median["full/sgd/dbd"];
  ctx.claim(make_claim("rdbd_beats_dbd_on_noisy_batches",
                       "noisy mini-batches, SGD: RDBD's final excess loss is below delta-bar-delta's (median ratio < 1)",
                       noisy_ratio, Comparator::Less, 1.0).shown_in("noisy_sgd"));
  ctx.claim(make_claim("rdbd_keeps_dbd_on_full_batches",
                       "full batches, SGD: RDBD reaches excess loss full.target within 10% of delta-bar-delta's steps "
                       "(median ratio <= 1.1)",
                       full_ratio, Comparator::LessEqual, 1.1).shown_in("full_sgd"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(optim, rdbd, run,
                        ExperimentInfo("P8 RDBD (arXiv 2310.11291)",
                                       "delta-bar-delta, RDBD, hypergradient and fixed lr over SGD and Adam: noisy and "
                                       "full-batch least squares, an MLP, a tiny GPT")
                            .sweep()
                            .quick_seconds(3))

}  // namespace lmlab
