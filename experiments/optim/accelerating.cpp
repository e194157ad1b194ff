// optim.accelerating: Reject Accelerating and Random Vector Accelerating (P4, arXiv 2402.01515,
// Deng, Song, Yang; RA is our reading, NOTES.md P4 [ours]) on top of SGD, SGD with momentum 0.9,
// AdaGrad and Adam (LibTorch's torch::optim, checked against torch.optim in tests/optim/), on the
// convex problems of convex_tasks.h: least squares and Fashion-MNIST softmax regression.
//
// Each (task, base, plug-in, seed) runs <task>.steps mini-batch steps of <task>.batch rows drawn
// with replacement (the same batches for every method of a seed) at the base's learning rate
// <task>.lr_<base>, the same with and without a plug-in. Measured every eval_every steps: the
// excess loss on the whole training set (least squares: L - L(w_ls); softmax: the cross-entropy),
// median over seeds; the final value and the steps each median curve needs to reach the target,
// the loss plain SGD's median curve reaches halfway through its steps (so no target is picked by
// hand). A run whose loss overflows or exceeds 1000 times its start has diverged (infinite from
// there on).
//
// Claims (the paper: both plug-ins "directly lead to an improvement in convergence rate"), for plain
// SGD on each convex task: the plug-in reaches the target in fewer steps than SGD alone (median
// ratio of steps < 1). Deviation: one learning rate per base and task, set in the config, instead
// of a grid choice per method on held-out data.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "common/curves.h"
#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/reject_accelerating.h"
#include "optim/convex_tasks.h"
#include "registry.h"

namespace lmlab {
namespace {

std::unique_ptr<torch::optim::Optimizer> make_base(const std::string& base, const torch::Tensor& w, double lr) {
  const std::vector<torch::Tensor> params{w};
  if (base == "sgd") return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr));
  if (base == "sgd_momentum")
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(lr).momentum(0.9));
  if (base == "adagrad") return std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(lr));
  LMLAB_CHECK(base == "adam", UsageError, "unknown base '", base, "'; use sgd, sgd_momentum, adagrad or adam");
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
}

std::unique_ptr<optim::StepWrapper> make_wrapper(const std::string& accel, torch::optim::Optimizer& base,
                                                 uint64_t seed, const Config& cfg) {
  if (accel == "reject") return std::make_unique<optim::RejectAccelerating>(base);
  if (accel == "rva")
    return std::make_unique<optim::RandomVectorAccelerating>(
        base, optim::RandomVectorAcceleratingOptions().seed(derive_seed(seed, "rva")).subspace_dim(cfg.get_int("rva.subspace_dim")));
  LMLAB_CHECK(accel == "none", UsageError, "unknown plug-in '", accel, "'; use none, reject or rva");
  return nullptr;
}

Row train(const ConvexTask& task, const std::string& base, const std::string& accel, uint64_t seed,
          const Config& cfg) {
  auto w = task.init();
  const auto optimizer = make_base(base, w, cfg.get_float(task.name + ".lr_" + base));
  const auto wrapper = make_wrapper(accel, *optimizer, seed, cfg);
  torch::Generator g = make_generator(seed);
  const FloatList excess =
      excess_curve(task, w, *optimizer, cfg.get_int(task.name + ".steps"), cfg.get_int(task.name + ".batch"),
                   cfg.get_int("eval_every"), g, [&] { wrapper ? wrapper->step() : optimizer->step(); });
  Row row{{"final", excess.back()}, {"curve", excess}};
  if (auto* ra = dynamic_cast<optim::RejectAccelerating*>(wrapper.get()))
    row.emplace_back("rejected_fraction", static_cast<double>(ra->rejected()) / static_cast<double>(std::max<int64_t>(1, ra->steps())));
  return row;
}

// Every value the runs read, before any work: task, base and plug-in names, counts >= 1, finite
// positive learning rates, the tasks' keys and the plug-ins' options (their constructors check
// them, on a one-element probe).
void check_config(const Config& cfg, const StringList& tasks, const StringList& bases, const StringList& accels) {
  LMLAB_CHECK(cfg.get_int("eval_every") >= 1, UsageError, "eval_every must be >= 1; got ", cfg.get_int("eval_every"));
  const auto probe = torch::zeros({1}, torch::kDouble).requires_grad_();
  for (const auto& task : tasks) {
    check_convex_task(task, cfg);
    for (const std::string& key : {task + ".steps", task + ".batch"})
      LMLAB_CHECK(cfg.get_int(key) >= 1, UsageError, key, " must be >= 1; got ", cfg.get_int(key));
    for (const auto& base : bases) {
      const std::string key = task + ".lr_" + base;
      LMLAB_CHECK(cfg.has(key), UsageError, "unknown base '", base, "'; use sgd, sgd_momentum, adagrad or adam");
      const double lr = cfg.get_float(key);
      LMLAB_CHECK(std::isfinite(lr) && lr > 0, UsageError, key, " must be finite and > 0; got ", lr);
      const auto optimizer = make_base(base, probe, lr);
      for (const auto& accel : accels) make_wrapper(accel, *optimizer, 0, cfg);
    }
  }
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  const StringList tasks = cfg.get_string_list("tasks"), bases = cfg.get_string_list("bases"),
                   accels = cfg.get_string_list("accels");
  LMLAB_CHECK(!seeds.empty(), UsageError, "need >= 1 seed");
  const auto has = [](const StringList& l, const char* x) { return std::find(l.begin(), l.end(), x) != l.end(); };
  LMLAB_CHECK(has(bases, "sgd") && has(accels, "none") && has(accels, "reject") && has(accels, "rva"), UsageError,
              "the claims compare sgd with and without each plug-in: keep \"sgd\" in bases and none, reject, rva in accels");
  check_config(cfg, tasks, bases, accels);
  const int64_t every = cfg.get_int("eval_every");
  Progress bar("runs", static_cast<int64_t>(tasks.size() * bases.size() * accels.size() * seeds.size()), ctx.log_sink());
  std::map<std::string, std::vector<Row>> rows;  // "task/base/accel"
  for (const auto& task_name : tasks)
    for (const int64_t seed : seeds) {
      const ConvexTask task =
          make_convex_task(task_name, cfg, derive_seed(ctx.seed(), task_name + "-" + std::to_string(seed)));
      for (const auto& base : bases)
        for (const auto& accel : accels) {
          const std::string key = "task=" + task_name + ",base=" + base + ",accel=" + accel + ",seed=" + std::to_string(seed);
          rows[task_name + "/" + base + "/" + accel].push_back(ctx.sweep_point(key, [&] {
            return train(task, base, accel, derive_seed(ctx.seed(), "batches-" + std::to_string(seed)), cfg);
          }));
          bar.advance(1, key);
        }
    }
  bar.finish();

  // The first evaluated step at which a median curve is <= target (infinite if never).
  const auto steps_to = [every](const Series& s, double target) {
    return first_x_at_or_below(s.y, target, static_cast<double>(every));
  };
  for (const auto& task : tasks) {
    std::map<std::string, Series> median_curves;  // "base/accel"
    for (const auto& base : bases) {
      std::vector<Series> curves;
      for (const auto& accel : accels) {
        const auto& rs = rows[task + "/" + base + "/" + accel];
        ctx.result(task + "." + base + "." + accel + ".final", median_of(column(rs, "final")));
        if (accel == "reject") ctx.result(task + "." + base + ".reject.rejected_fraction", median_of(column(rs, "rejected_fraction")));
        const Series s = median_curve(rs, "curve", static_cast<double>(every), accel);
        curves.push_back(s);
        median_curves[base + "/" + accel] = s;
      }
      const std::string y = task == "least_squares" ? "excess loss L(w) - L(w_ls)" : "training cross-entropy";
      ctx.plot(LinePlot(task + ", " + base + ": median over seeds", "step", y).log_y().with(curves),
               task + "_" + base);
    }
    // The target: the loss SGD alone reaches (median curve) halfway through its steps.
    const Series& sgd = median_curves["sgd/none"];
    const double target = sgd.y[sgd.y.size() / 2];
    ctx.result(task + ".target", target);
    for (const auto& [name, curve] : median_curves) {
      std::string key = name;
      std::replace(key.begin(), key.end(), '/', '.');
      ctx.result(task + "." + key + ".steps_to_target", steps_to(curve, target));
    }
    for (const char* accel : {"reject", "rva"}) {
      const double ratio = steps_to(median_curves[std::string("sgd/") + accel], target) / steps_to(sgd, target);
      ctx.claim(make_claim(std::string(accel) + "_speeds_up_sgd_on_" + task,
                           std::string(accel == std::string("rva") ? "Random Vector" : "Reject") +
                               " Accelerating reaches the target on " + task +
                               " in fewer SGD steps than SGD alone (median ratio of steps < 1)",
                           ratio, Comparator::Less, 1.0));
    }
  }
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(optim, accelerating, run,
                        ExperimentInfo("P4 RA/RVA (arXiv 2402.01515)",
                                       "Reject and Random Vector Accelerating over SGD, momentum, AdaGrad, Adam on convex tasks")
                            .sweep())

}  // namespace lmlab
