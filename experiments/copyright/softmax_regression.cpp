// copyright.softmax_regression: tau against gamma, Newton against gradient descent (P10, arXiv
// 2308.12247, Chu, Song, Yang; the data and the two-solver comparison are ours, NOTES.md P10).
//
// Per seed a synthetic data set (lmlab/copyright/softmax_data.h: K tasks (A_k, b_k) sharing a
// ground truth, the first `data.copyrighted` marked copyrighted). For each gamma the protected
// objective F = L_rest + gamma / L_cp + lambda/2 ||x||^2 (softmax_regression.h; objective.fit_all
// puts the mean over all tasks in place of L_rest) is minimised from x = 0 by Newton and by
// gradient descent (softmax_solvers.h, Armijo backtracking for both) to ||grad F|| <= tolerance.
// Measured: tau = L_cp - L_rest at Newton's minimiser; each solver's iterations (gradient descent
// that runs out is counted at its cap, so ratios are lower bounds); wall times in metrics.jsonl
// only (results stay deterministic).
//
// Claims:
//  * "tau grows with gamma" (the paper: a larger gamma gives a larger protection margin): the
//    median tau over seeds increases at every step of the gamma grid (fraction of increasing steps
//    >= 1).
//  * "Newton converges in far fewer iterations" (the paper's method is Newton's; far fewer read as
//    an order of magnitude [ours]): the median over (seed, gamma) of gradient-descent iterations /
//    Newton iterations >= 10.
#include <chrono>
#include <cmath>
#include <map>

#include "common/stats.h"
#include "lmlab/copyright/softmax_data.h"
#include "lmlab/copyright/softmax_regression.h"
#include "lmlab/copyright/softmax_solvers.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "registry.h"

namespace lmlab {
namespace {

using namespace copyright;

SoftmaxDataOptions data_options(const Config& cfg) {
  return SoftmaxDataOptions()
      .tasks(cfg.get_int("data.tasks"))
      .copyrighted(cfg.get_int("data.copyrighted"))
      .rows(cfg.get_int("data.rows"))
      .dim(cfg.get_int("data.dim"))
      .scale(cfg.get_float("data.scale"))
      .noise(cfg.get_float("data.noise"));
}

SoftmaxRegressionOptions objective_options(const Config& cfg, double gamma) {
  return SoftmaxRegressionOptions().gamma(gamma).lambda(cfg.get_float("objective.lambda")).loss_floor(
      cfg.get_float("objective.loss_floor")).fit_all(cfg.get_bool("objective.fit_all"));
}

SolverOptions solver_options(const Config& cfg, bool newton) {
  return SolverOptions()
      .tolerance(cfg.get_float("solver.tolerance"))
      .max_iterations(cfg.get_int(newton ? "solver.newton_max_iterations" : "solver.gd_max_iterations"))
      .initial_step(newton ? 1.0 : cfg.get_float("solver.gd_initial_step"));
}

// Every value the runs read, before any work (the options' own checks, on a probe).
void check_config(const Config& cfg, const IntList& seeds, const FloatList& gammas) {
  LMLAB_CHECK(!seeds.empty(), UsageError, "seeds must hold at least one seed");
  LMLAB_CHECK(gammas.size() >= 2, UsageError, "gammas must hold at least two values (tau is compared across them)");
  for (size_t i = 0; i < gammas.size(); ++i) {
    LMLAB_CHECK(std::isfinite(gammas[i]) && gammas[i] >= 0, UsageError, "gammas must be finite and >= 0; got ",
                gammas[i]);
    LMLAB_CHECK(i == 0 || gammas[i] > gammas[i - 1], UsageError, "gammas must increase; got ", gammas[i - 1],
                " then ", gammas[i]);
  }
  check_softmax_data_options(data_options(cfg));
  const double curve_gamma = cfg.get_float("solver.curve_gamma");
  LMLAB_CHECK(std::isfinite(curve_gamma) && curve_gamma >= 0, UsageError,
              "solver.curve_gamma must be finite and >= 0; got ", curve_gamma);
  SoftmaxRegression(make_softmax_data(SoftmaxDataOptions(), 0), objective_options(cfg, gammas.back()));  // lambda, floor
  check_solver_options(solver_options(cfg, true));
  check_solver_options(solver_options(cfg, false));
}

Row solve_point(const SoftmaxRegressionData& data, double gamma, const Config& cfg) {
  const SoftmaxRegression f(data, objective_options(cfg, gamma));
  const auto x0 = torch::zeros({f.dim()}, torch::kDouble);
  const auto timed = [&](bool newton) {
    const auto start = std::chrono::steady_clock::now();
    SolveResult r = newton ? newton_solve(f, x0, solver_options(cfg, true))
                           : gradient_descent_solve(f, x0, solver_options(cfg, false));
    return std::make_pair(std::move(r), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  const auto [newton, newton_s] = timed(true);
  const auto [gd, gd_s] = timed(false);
  return {{"gamma", gamma},
          {"tau", newton.final.tau()},
          {"l_cp", newton.final.l_cp},
          {"l_rest", newton.final.l_rest},
          {"newton_iterations", newton.iterations},
          {"newton_converged", newton.converged},
          {"newton_evaluations", newton.evaluations},
          {"newton_s", newton_s},
          {"gd_iterations", gd.iterations},
          {"gd_converged", gd.converged},
          {"gd_evaluations", gd.evaluations},
          {"gd_s", gd_s},
          {"gd_tau", gd.final.tau()},
          {"newton_grad_norms", FloatList(newton.gradient_norms)},
          {"gd_grad_norms", FloatList(gd.gradient_norms)}};
}

Series curve(const Row& row, const std::string& key, const std::string& name) {
  const auto& y = std::get<FloatList>(row_value(row, key));
  Series s{name, {}, y, {}};
  for (size_t i = 0; i < y.size(); ++i) s.x.push_back(static_cast<double>(i));
  return s;
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  const FloatList gammas = cfg.get_float_list("gammas");
  check_config(cfg, seeds, gammas);
  const double curve_gamma = cfg.get_float("solver.curve_gamma");

  std::map<double, std::vector<Row>> by_gamma;
  std::vector<Row> all;
  Progress bar("points", static_cast<int64_t>(seeds.size() * (gammas.size() + 1)), ctx.log_sink());
  std::optional<Row> curve_row;
  for (const int64_t seed : seeds) {
    const auto data = make_softmax_data(data_options(cfg), derive_seed(ctx.seed(), "data-" + std::to_string(seed)));
    const auto point = [&](double gamma) {
      const std::string key = "seed=" + std::to_string(seed) + ",gamma=" + to_string(Value(gamma));
      Row row = ctx.sweep_point(key, [&] { return solve_point(data, gamma, cfg); }, &bar);
      ctx.metric({{"seed", seed}, {"gamma", gamma}, {"tau", row_number(row, "tau")},
                  {"newton_iterations", row_number(row, "newton_iterations")},
                  {"gd_iterations", row_number(row, "gd_iterations")}, {"newton_s", row_number(row, "newton_s")},
                  {"gd_s", row_number(row, "gd_s")}});
      return row;
    };
    for (const double gamma : gammas) {
      by_gamma[gamma].push_back(point(gamma));
      all.push_back(by_gamma[gamma].back());
    }
    if (!curve_row) curve_row = point(curve_gamma);
    else bar.advance(1);
  }
  bar.finish();

  // tau against gamma (median, min, max over seeds).
  Series tau{"tau = L_cp - L_rest (median; bars: min to max)", {}, {}, {}};
  Series l_cp{"L_cp (median)", {}, {}, {}}, l_rest{"L_rest (median)", {}, {}, {}};
  FloatList medians;
  for (const double gamma : gammas) {
    const auto t = column(by_gamma[gamma], "tau");
    const double med = median_of(t);
    medians.push_back(med);
    tau.x.push_back(gamma), tau.y.push_back(med);
    tau.yerr.push_back(std::max(med - *std::min_element(t.begin(), t.end()), *std::max_element(t.begin(), t.end()) - med));
    l_cp.x.push_back(gamma), l_cp.y.push_back(median_of(column(by_gamma[gamma], "l_cp")));
    l_rest.x.push_back(gamma), l_rest.y.push_back(median_of(column(by_gamma[gamma], "l_rest")));
  }
  ctx.result("gammas", gammas);
  ctx.result("tau_median", medians);
  ctx.result("l_cp_median", l_cp.y);
  ctx.result("l_rest_median", l_rest.y);
  ctx.plot(LinePlot("Protected softmax regression: tau against gamma", "gamma", "loss").with({tau, l_cp, l_rest}), "tau");

  // Newton against gradient descent.
  FloatList ratio;
  int64_t newton_unconverged = 0, gd_unconverged = 0;
  for (const auto& r : all) {
    ratio.push_back(row_number(r, "gd_iterations") / std::max(1.0, row_number(r, "newton_iterations")));
    newton_unconverged += !std::get<bool>(row_value(r, "newton_converged"));
    gd_unconverged += !std::get<bool>(row_value(r, "gd_converged"));
  }
  ctx.result("newton_iterations_median", median_of(column(all, "newton_iterations")));
  ctx.result("gd_iterations_median", median_of(column(all, "gd_iterations")));
  ctx.result("iteration_ratio_median", median_of(ratio));
  ctx.result("newton_unconverged", newton_unconverged);
  ctx.result("gd_unconverged", gd_unconverged);
  const double time_ratio = median_of(column(all, "gd_s")) / median_of(column(all, "newton_s"));
  ctx.metric({{"newton_s_median", median_of(column(all, "newton_s"))}, {"gd_s_median", median_of(column(all, "gd_s"))},
              {"time_ratio_gd_over_newton", time_ratio}});
  ctx.log("median solve time: Newton " + std::to_string(median_of(column(all, "newton_s"))) + " s, gradient descent " +
          std::to_string(median_of(column(all, "gd_s"))) + " s (ratio " + std::to_string(time_ratio) + ")");
  ctx.plot(LinePlot("Convergence at gamma = " + to_string(Value(curve_gamma)) + " (first seed)", "iteration",
                    "||grad F||")
               .log_xy()
               .with({curve(*curve_row, "newton_grad_norms", "Newton"),
                      curve(*curve_row, "gd_grad_norms", "gradient descent")}),
           "convergence");

  int64_t increasing = 0;
  for (size_t i = 1; i < medians.size(); ++i) increasing += medians[i] > medians[i - 1];
  ctx.claim(make_claim("tau_grows_with_gamma",
                       "the median tau over seeds increases at every step of the gamma grid (fraction of steps)",
                       static_cast<double>(increasing) / static_cast<double>(medians.size() - 1),
                       Comparator::GreaterEqual, 1.0).shown_in("tau"));
  ctx.claim(make_claim("newton_far_fewer_iterations",
                       "gradient descent needs at least 10x Newton's iterations to ||grad F|| <= tolerance "
                       "(median ratio over seeds and gammas)",
                       median_of(ratio), Comparator::GreaterEqual, 10.0).shown_in("convergence"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(copyright, softmax_regression, run,
                        ExperimentInfo("P10 copyright protection (arXiv 2308.12247)",
                                       "protected softmax regression: tau against gamma, Newton against gradient descent")
                            .sweep()
                            .quick_seconds(1))

}  // namespace lmlab
