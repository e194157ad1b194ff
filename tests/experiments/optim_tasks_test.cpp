// What the optim.* experiments share (experiments/optim/convex_tasks.h, common/curves.h): the least
// squares task's optimum is a stationary point with the loss it records, the softmax task starts at
// ln 10, bad names and sizes are usage errors, and the median curve is taken point by point.
#include <gtest/gtest.h>

#include <cmath>

#include "common/curves.h"
#include "lmlab/core/error.h"
#include "optim/convex_tasks.h"

namespace lmlab {
namespace {

Config task_config() {
  return Config::from_toml("dim = 6\npoints = 200\nnoise = 0.5\ncondition = 10.0\n[fmnist]\npoints = 100\n", "test");
}

TEST(ConvexTasks, LeastSquaresOptimumIsStationaryAndItsLossIsTheBest) {
  const ConvexTask t = make_convex_task("least_squares", task_config(), 3);
  EXPECT_EQ(t.x.sizes(), (std::vector<int64_t>{200, 6}));
  // w_ls from the normal equations; the recorded best loss is its loss and its gradient vanishes.
  const auto w_ls = torch::linalg_solve(t.x.t().mm(t.x), t.x.t().mv(t.y)).requires_grad_();
  const auto loss = t.loss(w_ls);
  loss.backward();
  EXPECT_NEAR(loss.item<double>(), t.best_loss, 1e-10 * t.best_loss);
  EXPECT_LT(w_ls.grad().abs().max().item<double>(), 1e-9);
  EXPECT_NEAR(t.excess(w_ls.detach()), 0.0, 1e-10);
  EXPECT_GT(t.excess(t.init()), 0.0);
  // A mini-batch loss is the loss of those rows.
  const auto idx = torch::tensor({0, 5, 7}, torch::kLong);
  const auto w = torch::ones({6}, torch::kDouble);
  EXPECT_NEAR(t.loss(w, idx).item<double>(),
              0.5 * (t.x.index_select(0, idx).mv(w) - t.y.index_select(0, idx)).pow(2).mean().item<double>(), 1e-12);
}

TEST(ConvexTasks, SoftmaxStartsAtLogTenAndBadInputIsAUsageError) {
  const ConvexTask t = make_convex_task("fmnist_softmax", task_config(), 1);
  EXPECT_EQ(t.x.sizes(), (std::vector<int64_t>{100, 785}));
  EXPECT_NEAR(t.excess(t.init()), std::log(10.0), 1e-12);
  EXPECT_THROW(make_convex_task("hinge", task_config(), 1), UsageError);
  Config c = task_config();
  c.set("points=3");  // fewer points than features
  EXPECT_THROW(make_convex_task("least_squares", c, 1), UsageError);
}

TEST(Curves, MedianCurveIsPointwise) {
  const std::vector<Row> rows{{{"c", FloatList{1, 5, 0}}}, {{"c", FloatList{3, 1, 2}}}, {{"c", FloatList{2, 2, 9}}}};
  const Series s = median_curve(rows, "c", 10, "m");
  EXPECT_EQ(s.name, "m");
  EXPECT_EQ(s.x, (std::vector<double>{0, 10, 20}));
  EXPECT_EQ(s.y, (std::vector<double>{2, 2, 2}));
  const std::vector<Row> ragged{{{"c", FloatList{1, 2}}}, {{"c", FloatList{1}}}};
  EXPECT_THROW(median_curve(ragged, "c", 1, "m"), InternalError);
}

}  // namespace
}  // namespace lmlab
