// optim.rdbd: RDBD against delta-bar-delta, hypergradient descent and a fixed lr (P8, arXiv
// 2310.11291, Song, Yang; RDBD is our reading, NOTES.md P8 [ours]).
//
// Least squares L(w) = 1/(2n) ||X w - y||^2 (convex_tasks.h: X [n, d] Gaussian, column j scaled
// by condition^(j/(d-1)), y = X w* + noise). SGD from w = 0 at lr sgd.lr under each lr rule
// (lmlab/optim/: DeltaBarDelta, RDBD, Hypergradient; per step the lr of the one parameter group),
// on two tasks: (a) "noisy", mini-batches of noisy.batch points drawn with replacement; (b) "full",
// the whole data set each step. Measured: the excess loss L(w) - L(w_ls) on the whole data set
// every sgd.eval_every steps (w_ls the least-squares solution), median over seeds; a run whose loss
// overflows or whose excess loss exceeds 1000 times its start has diverged and counts as infinite
// excess loss from there on.
//
// Claims (the paper: delta-bar-delta "may encounter convergence issues in mini-batch optimization
// due to noisy gradients"; RDBD "allows for prompt correction of biased learning rate adjustments
// and ensures the convergence"):
//  * noisy mini-batches: RDBD's final excess loss is below delta-bar-delta's (median ratio < 1);
//  * full batches, where delta-bar-delta is strong: RDBD needs at most 10% more steps than it to
//    reach the excess loss full.target (median ratio <= 1.1). Steps to a target, not the final
//    loss: with full batches both reach rounding level, where a ratio says nothing.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "common/curves.h"
#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/optim/delta_bar_delta.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/rdbd.h"
#include "optim/convex_tasks.h"
#include "registry.h"

namespace lmlab {
namespace {

std::unique_ptr<optim::LrAdapter> make_adapter(const std::string& method, torch::optim::SGD& sgd, const Config& cfg) {
  const auto bounds = optim::LrBounds().lr_min(cfg.get_float("dbd.lr_min")).lr_max(cfg.get_float("dbd.lr_max"));
  const auto dbd = optim::DeltaBarDeltaOptions()
                       .kappa(cfg.get_float("dbd.kappa"))
                       .phi(cfg.get_float("dbd.phi"))
                       .theta(cfg.get_float("dbd.theta"))
                       .bounds(bounds);
  if (method == "dbd") return std::make_unique<optim::DeltaBarDelta>(sgd, dbd);
  if (method == "rdbd") return std::make_unique<optim::RDBD>(sgd, dbd);
  if (method == "hd")
    return std::make_unique<optim::Hypergradient>(sgd, optim::HypergradientOptions().beta(cfg.get_float("hd.beta")).bounds(bounds));
  LMLAB_CHECK(method == "fixed", UsageError, "unknown method '", method, "'; use fixed, dbd, rdbd or hd");
  return nullptr;
}

// One run: excess loss and lr every eval_every steps (step 0 first).
Row train(const ConvexTask& p, const std::string& task, const std::string& method, uint64_t seed, const Config& cfg) {
  auto w = p.init();
  torch::optim::SGD sgd(std::vector<torch::Tensor>{w}, torch::optim::SGDOptions(cfg.get_float("sgd.lr")));
  const auto adapter = make_adapter(method, sgd, cfg);
  const auto lr = [&] { return sgd.param_groups()[0].options().get_lr(); };
  torch::Generator g = make_generator(seed);
  FloatList lrs{lr()};
  const int64_t every = cfg.get_int("sgd.eval_every");
  const FloatList excess = excess_curve(
      p, w, sgd, cfg.get_int(task + ".steps"), task == "full" ? 0 : cfg.get_int("noisy.batch"), every, g,
      [&] { adapter ? adapter->step() : sgd.step(); }, [&] { lrs.push_back(lr()); });
  lrs.resize(excess.size(), lr());  // the lr it diverged at, if it did
  return {{"task", task},
          {"method", method},
          {"final_excess", excess.back()},
          {"steps_to_target", first_x_at_or_below(excess, cfg.get_float("full.target"), static_cast<double>(every))},
          {"excess", excess},
          {"lr", lrs}};
}

// Every value the runs read, before any work: counts >= 1, a finite positive lr and target, the
// task's keys, and the adapters' options (their constructors check them, on a one-element probe).
void check_config(const Config& cfg, const StringList& methods) {
  for (const char* key : {"noisy.steps", "noisy.batch", "full.steps", "sgd.eval_every"})
    LMLAB_CHECK(cfg.get_int(key) >= 1, UsageError, key, " must be >= 1; got ", cfg.get_int(key));
  for (const char* key : {"sgd.lr", "full.target"})
    LMLAB_CHECK(std::isfinite(cfg.get_float(key)) && cfg.get_float(key) > 0, UsageError, key,
                " must be finite and > 0; got ", cfg.get_float(key));
  check_convex_task("least_squares", cfg);
  const auto probe = torch::zeros({1}, torch::kDouble).requires_grad_();
  torch::optim::SGD sgd(std::vector<torch::Tensor>{probe}, torch::optim::SGDOptions(cfg.get_float("sgd.lr")));
  for (const auto& m : methods) make_adapter(m, sgd, cfg);
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  const StringList methods = cfg.get_string_list("methods");
  LMLAB_CHECK(!seeds.empty(), UsageError, "need >= 1 seed");
  for (const char* needed : {"dbd", "rdbd"})
    LMLAB_CHECK(std::find(methods.begin(), methods.end(), needed) != methods.end(), UsageError,
                "the claims compare rdbd with dbd: keep both in methods");
  check_config(cfg, methods);
  std::map<std::string, std::vector<Row>> rows;  // "task/method" -> one row per seed
  Progress bar("runs", static_cast<int64_t>(2 * methods.size() * seeds.size()), ctx.log_sink());
  for (const int64_t seed : seeds) {
    const ConvexTask problem =
        make_convex_task("least_squares", cfg, derive_seed(ctx.seed(), "problem-" + std::to_string(seed)));
    for (const std::string task : {"noisy", "full"})
      for (const auto& method : methods) {
        const std::string key = "task=" + task + ",method=" + method + ",seed=" + std::to_string(seed);
        rows[task + "/" + method].push_back(ctx.sweep_point(key, [&] {
          return train(problem, task, method, derive_seed(ctx.seed(), "batches-" + std::to_string(seed)), cfg);
        }));
        bar.advance(1, key);
      }
  }
  bar.finish();

  const int64_t every = cfg.get_int("sgd.eval_every");
  std::map<std::string, double> final_median;
  for (const std::string task : {"noisy", "full"}) {
    std::vector<Series> excess, lr;
    for (const auto& method : methods) {
      const auto& rs = rows[task + "/" + method];
      final_median[task + "/" + method] = median_of(column(rs, "final_excess"));
      ctx.result(task + "." + method + ".final_excess", final_median[task + "/" + method]);
      if (task == "full") {
        final_median["full-steps/" + method] = median_of(column(rs, "steps_to_target"));
        ctx.result("full." + method + ".steps_to_target", final_median["full-steps/" + method]);
      }
      excess.push_back(median_curve(rs, "excess", static_cast<double>(every), method));
      lr.push_back(median_curve(rs, "lr", static_cast<double>(every), method));
    }
    const std::string what = task == "noisy" ? "mini-batches of " + std::to_string(cfg.get_int("noisy.batch")) : "full batches";
    ctx.plot(LinePlot("Least squares, " + what + ": excess loss (median over seeds)", "step", "L(w) - L(w_ls)")
                 .log_y()
                 .with(excess),
             task + "_excess");
    ctx.plot(LinePlot("Least squares, " + what + ": learning rate (median over seeds)", "step", "lr").log_y().with(lr),
             task + "_lr");
  }
  const double noisy_ratio = final_median["noisy/rdbd"] / final_median["noisy/dbd"];
  const double full_ratio = final_median["full-steps/rdbd"] / final_median["full-steps/dbd"];
  ctx.claim(make_claim("rdbd_beats_dbd_on_noisy_batches",
                       "noisy mini-batches: RDBD's final excess loss is below delta-bar-delta's (median ratio < 1)",
                       noisy_ratio, Comparator::Less, 1.0));
  ctx.claim(make_claim("rdbd_keeps_dbd_on_full_batches",
                       "full batches: RDBD reaches excess loss full.target within 10% of delta-bar-delta's steps "
                       "(median ratio <= 1.1)",
                       full_ratio, Comparator::LessEqual, 1.1));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(optim, rdbd, run,
                        ExperimentInfo("P8 RDBD (arXiv 2310.11291)",
                                       "delta-bar-delta, RDBD, hypergradient and fixed lr over SGD, noisy and full batches")
                            .sweep())

}  // namespace lmlab
