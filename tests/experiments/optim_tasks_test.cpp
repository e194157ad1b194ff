// What the optim.* experiments share (experiments/optim/tasks.h, common/curves.h): the least
// squares task's optimum has zero excess loss, the softmax task starts at ln 10, each problem's
// model trains and reports its objective, held-out loss and test metric, a diverging run is
// marked, bad names and sizes are usage errors, and the median curve is taken point by point with
// its band.
#include <gtest/gtest.h>

#include <cmath>

#include "common/curves.h"
#include "lmlab/core/error.h"
#include "optim/tasks.h"

namespace lmlab {
namespace {

Config task_config() {
  return Config::from_toml(
      "dim = 6\npoints = 200\nnoise = 0.5\ncondition = 10.0\nholdout = 50\ntest_points = 60\n"
      "[fmnist]\npoints = 100\nholdout = 50\n[mlp]\nhidden = [8]\n"
      "[gpt]\nlayers = 1\nheads = 1\nwidth = 8\ncontext = 8\nobjective_windows = 4\neval_batches = 1\n"
      "[t]\nproblem = \"least_squares\"\nsteps = 20\nbatch = 8\neval_every = 5\nlr_sgd = 0.01\n",
      "test");
}

TEST(OptimTasks, LeastSquaresOptimumHasZeroExcessAndSgdLowersIt) {
  const Config cfg = task_config();
  const OptimTask t = make_optim_task("least_squares", cfg, 3);
  EXPECT_TRUE(t.convex);
  const TaskModel m = t.model(0);
  ASSERT_EQ(m.parameters.size(), 1u);
  const double start = m.objective();
  EXPECT_GT(start, 0.0);
  // Full-batch gradient steps at a small lr lower the excess loss; held-out and test are finite.
  const Row row = run_task(t, task_settings(cfg, "t"), base_options("sgd", 0.01), 0, 1);
  const auto& objective = std::get<FloatList>(row_value(row, "objective"));
  EXPECT_EQ(objective.size(), 5u);  // steps 0, 5, ..., 20
  EXPECT_DOUBLE_EQ(objective.front(), start);
  EXPECT_LT(row_number(row, "final"), start);
  EXPECT_TRUE(std::isfinite(row_number(row, "selection_loss")));
  EXPECT_EQ(row_number(row, "diverged"), 0.0);
  // Full-batch gradient descent converges to the least-squares solution, where the excess loss
  // is zero: not below (the recorded best is no lower than the optimum), not above.
  Config full = cfg;
  full.set("t.batch=0");
  full.set("t.steps=4000");
  full.set("t.eval_every=4000");
  const double final_excess =  // lr 0.009 < 2 / (largest curvature, about condition^2 = 100)
      row_number(run_task(t, task_settings(full, "t"), base_options("sgd", 0.009), 0, 1), "final");
  EXPECT_LT(final_excess, 1e-9 * start);
  EXPECT_GT(final_excess, -1e-12 * start);
}

TEST(OptimTasks, EveryProblemTrainsAndReportsItsMetrics) {
  Config cfg = task_config();
  for (const std::string problem : {"fmnist_softmax", "fmnist_mlp", "fortunes_gpt"}) {
    const OptimTask t = make_optim_task(problem, cfg, 1);
    if (problem == "fmnist_softmax") {
      EXPECT_NEAR(t.model(0).objective(), std::log(10.0), 1e-12);
    }
    cfg.set("t.problem=" + problem);
    cfg.set("t.lr_sgd=0.05");
    const Row row = run_task(t, task_settings(cfg, "t"), base_options("sgd", 0.05), 0, 1);
    EXPECT_LT(row_number(row, "final"), std::get<FloatList>(row_value(row, "objective")).front()) << problem;
    const double test = row_number(row, "test");
    if (problem == "fortunes_gpt") {
      EXPECT_GT(test, 0.0) << "bits per byte";
    } else {
      EXPECT_TRUE(test >= 0.0 && test <= 1.0) << "accuracy " << test;
    }
  }
}

TEST(OptimTasks, DivergenceIsMarkedAndTheCurveIsInfiniteFromThere) {
  const Config cfg = task_config();
  const OptimTask t = make_optim_task("least_squares", cfg, 3);
  const Row row = run_task(t, task_settings(cfg, "t"), base_options("sgd", 10.0), 0, 1);
  EXPECT_EQ(row_number(row, "diverged"), 1.0);
  EXPECT_TRUE(std::isinf(row_number(row, "final")));
  EXPECT_TRUE(std::isinf(row_number(row, "selection_loss")));
  EXPECT_TRUE(std::isnan(row_number(row, "test")));
  EXPECT_EQ(std::get<FloatList>(row_value(row, "objective")).size(), 5u);
}

TEST(OptimTasks, BadInputIsAUsageError) {
  const Config cfg = task_config();
  EXPECT_THROW(make_optim_task("hinge", cfg, 1), UsageError);
  Config c = cfg;
  c.set("points=3");  // fewer points than features
  EXPECT_THROW(make_optim_task("least_squares", c, 1), UsageError);
  c = cfg;
  c.set("gpt.width=9");  // not a multiple of heads 2
  c.set("gpt.heads=2");
  EXPECT_THROW(check_optim_task("fortunes_gpt", c), UsageError);
  c = cfg;
  c.set("t.eval_every=0");
  EXPECT_THROW(task_settings(c, "t"), UsageError);
  EXPECT_THROW(task_lr(cfg, "t", "adam"), UsageError);  // no t.lr_adam
  EXPECT_THROW(base_options("lbfgs", 0.1), UsageError);
}

TEST(Curves, MedianCurveIsPointwiseWithTheRangeAsItsBand) {
  const std::vector<Row> rows{{{"c", FloatList{1, 5, 0}}}, {{"c", FloatList{3, 1, 2}}}, {{"c", FloatList{2, 2, 9}}}};
  const Series s = median_curve(rows, "c", 10, "m");
  EXPECT_EQ(s.name, "m");
  EXPECT_EQ(s.x, (std::vector<double>{0, 10, 20}));
  EXPECT_EQ(s.y, (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(s.lo, (std::vector<double>{1, 1, 0}));
  EXPECT_EQ(s.hi, (std::vector<double>{3, 5, 9}));
  const std::vector<Row> ragged{{{"c", FloatList{1, 2}}}, {{"c", FloatList{1}}}};
  EXPECT_THROW(median_curve(ragged, "c", 1, "m"), InternalError);
}

}  // namespace
}  // namespace lmlab
