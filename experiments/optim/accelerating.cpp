// optim.accelerating: Reject Accelerating and Random Vector Accelerating (P4, arXiv 2402.01515,
// Deng, Song, Yang; RA is our reading, NOTES.md P4 [ours]) on top of SGD, SGD with momentum 0.9,
// AdaGrad and Adam (LibTorch's torch::optim, checked against torch.optim in tests/optim/), through
// PluggedOptimizer, on the tasks of tasks.h: least squares and Fashion-MNIST softmax regression
// (convex), the Fashion-MNIST MLP and the byte-level GPT on fortunes.
//
// Learning rate per method: for each (task, base, plug-in), one run per factor f of lr_factors at
// f x <task>.lr_<base> on a draw of its own (data, initialisation, batches: seed "select", never a
// reported seed); the lowest held-out loss wins (lr_choice.h). Then each seed runs <task>.steps
// mini-batch steps of <task>.batch examples drawn with replacement (the same data, initialisation
// and batches for every method of a seed) at the chosen lr. Measured every <task>.eval_every
// steps: the task's objective (least squares: L - L(w_ls); the others: training loss) and the
// training wall time; at the end the test metric. Steps (and seconds) to a target: where a median
// curve first reaches the objective plain SGD's median curve has halfway through its steps (so no
// target is picked by hand). A run whose loss overflows or exceeds 1000 times its start diverged.
//
// Claims (the paper: both plug-ins "directly lead to an improvement in convergence rate"), for plain
// SGD on each convex task: the plug-in reaches the target in fewer steps than SGD alone (median
// ratio of steps < 1). The non-convex tasks are reported, not claimed: the paper's statements are
// for convex objectives.
#include <algorithm>
#include <cmath>
#include <map>

#include "common/curves.h"
#include "common/stats.h"
#include "common/lr_choice.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "optim/tasks.h"
#include "registry.h"

namespace lmlab {
namespace {

optim::PluggedOptimizerOptions method_options(const std::string& base, const std::string& accel, double lr,
                                              uint64_t seed, const Config& cfg) {
  return base_options(base, lr).accel(accel).rva(
      optim::RandomVectorAcceleratingOptions().seed(derive_seed(seed, "rva")).subspace_dim(cfg.get_int("rva.subspace_dim")));
}

std::string key_of(const std::string& task, const std::string& base, const std::string& accel) {
  return "task=" + task + ",base=" + base + ",accel=" + accel;
}

// Every value the runs read, before any work: the task sections, each base's lr, the plug-ins'
// options (PluggedOptimizerOptions::validate) and the lr factors.
void check_config(const Config& cfg, const StringList& tasks, const StringList& bases, const StringList& accels) {
  check_lr_factors(cfg.get_float_list("lr_factors"), 1, "", "lr_factors");
  for (const auto& task : tasks) {
    task_settings(cfg, task);
    for (const auto& base : bases)
      for (const auto& accel : accels) method_options(base, accel, task_lr(cfg, task, base), 0, cfg).validate();
  }
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  const StringList tasks = cfg.get_string_list("tasks"), bases = cfg.get_string_list("bases"),
                   accels = cfg.get_string_list("accels");
  const FloatList factors = cfg.get_float_list("lr_factors");
  LMLAB_CHECK(!seeds.empty(), UsageError, "need >= 1 seed");
  const auto has = [](const StringList& l, const char* x) { return std::find(l.begin(), l.end(), x) != l.end(); };
  LMLAB_CHECK(has(bases, "sgd") && has(accels, "none") && has(accels, "reject") && has(accels, "rva"), UsageError,
              "the claims compare sgd with and without each plug-in: keep \"sgd\" in bases and none, reject, rva in accels");
  check_config(cfg, tasks, bases, accels);
  const size_t selection_runs = factors.size() > 1 ? factors.size() : 0;
  Progress bar("runs", static_cast<int64_t>(tasks.size() * bases.size() * accels.size() * (seeds.size() + selection_runs)),
               ctx.log_sink());

  for (const auto& section : tasks) {
    const TaskSettings st = task_settings(cfg, section);
    // The learning rate of each base/plug-in: chosen on held-out data of the selection draw.
    std::map<std::string, double> lr;  // "base/accel"
    {
      const uint64_t seed = derive_seed(ctx.seed(), section + "-select");
      const OptimTask task = selection_runs ? make_optim_task(st.problem, cfg, seed) : OptimTask{};
      for (const auto& base : bases)
        for (const auto& accel : accels) {
          const double base_lr = task_lr(cfg, section, base);
          lr[base + "/" + accel] = selection_runs == 0 ? base_lr : row_number(choose_learning_rate(
              ctx, key_of(section, base, accel) + ",select", factors, base_lr, [&](double l) {
                return run_task(task, st, method_options(base, accel, l, seed, cfg), derive_seed(seed, "model"),
                                derive_seed(seed, "batches"));
              }), "lr");
          bar.advance(static_cast<int64_t>(selection_runs), section + " " + base + " " + accel + " lr chosen");
        }
    }
    std::map<std::string, std::vector<Row>> rows;  // "base/accel"
    OptimTask task;
    for (const int64_t s : seeds) {
      const std::string tag = "-" + std::to_string(s);
      task = make_optim_task(st.problem, cfg, derive_seed(ctx.seed(), section + tag));
      for (const auto& base : bases)
        for (const auto& accel : accels) {
          const std::string key = key_of(section, base, accel) + ",seed=" + std::to_string(s);
          rows[base + "/" + accel].push_back(ctx.sweep_point(key, [&] {
            return run_task(task, st, method_options(base, accel, lr[base + "/" + accel], derive_seed(ctx.seed(), "rva" + tag), cfg),
                            derive_seed(ctx.seed(), "model" + tag), derive_seed(ctx.seed(), "batches" + tag));
          }));
          bar.advance(1, key);
        }
    }

    // The target: the objective plain SGD's median curve reaches halfway through its steps.
    const Series sgd = median_curve(rows["sgd/none"], "objective", static_cast<double>(st.every), "sgd");
    const double target = sgd.y[sgd.y.size() / 2];
    ctx.result(section + ".target", target);
    std::map<std::string, double> steps_to;  // "base/accel"
    for (const auto& base : bases) {
      std::vector<MethodRuns> methods;
      for (const auto& accel : accels) {
        const std::string m = base + "/" + accel, prefix = section + "." + base + "." + accel;
        methods.push_back({accel, rows[m]});
        const Series by_step = objective_series(methods.back(), st.every, false),
                     by_time = objective_series(methods.back(), st.every, true);
        const auto hit = std::find_if(by_step.y.begin(), by_step.y.end(), [&](double y) { return y <= target; });
        const bool reached = hit != by_step.y.end();
        steps_to[m] = reached ? by_step.x[hit - by_step.y.begin()] : INFINITY;
        ctx.result(prefix + ".lr", lr[m]);
        ctx.result(prefix + ".steps_to_target", steps_to[m]);
        ctx.result(prefix + ".seconds_to_target", reached ? by_time.x[hit - by_step.y.begin()] : INFINITY);
        if (accel == "reject") ctx.result(prefix + ".rejected_fraction", median_of(column(rows[m], "rejected_fraction")));
      }
      report_methods(ctx, task, st, section + "." + base, section + ", " + base, section + "_" + base, methods);
    }
    if (!task.convex) continue;
    for (const char* accel : {"reject", "rva"}) {
      const double ratio = steps_to[std::string("sgd/") + accel] / steps_to["sgd/none"];
      ctx.claim(make_claim(std::string(accel) + "_speeds_up_sgd_on_" + section,
                           std::string(accel == std::string("rva") ? "Random Vector" : "Reject") +
                               " Accelerating reaches the target on " + section +
                               " in fewer SGD steps than SGD alone (median ratio of steps < 1)",
                           ratio, Comparator::Less, 1.0).shown_in(section + "_sgd"));
    }
  }
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(optim, accelerating, run,
                        ExperimentInfo("P4 RA/RVA (arXiv 2402.01515)",
                                       "Reject and Random Vector Accelerating over SGD, momentum, AdaGrad, Adam on "
                                       "convex tasks, an MLP and a tiny GPT")
                            .sweep()
                            .quick_seconds(11))

}  // namespace lmlab
