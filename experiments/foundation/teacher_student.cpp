// foundation.teacher_student: a sweep over student width on teacher-student regression.
//
// Teacher f*(x) = a^T relu(W x / sqrt(d)) / sqrt(m*) (TwoLayerTeacher), x ~ N(0, I_d). Students
// are MLP(d -> width -> 1, ReLU) trained by full-batch Adam (or the optimizer of the [optim]
// section, experiments/common/optim.toml) on squared loss. Per width: train and
// test MSE, and the test MSE relative to Var(y_test) (1.0 = predicting the mean).
//
// Claims (ours, not a paper's; they check the pipe end to end with a known answer):
//  * a student at least as wide as the teacher can represent it exactly, so the widest student
//    must learn it: relative test MSE < 0.1 (at most 10% of the target variance left);
//  * more width helps: the log-log slope of relative test MSE against width is negative.
#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/synthetic.h"
#include "lmlab/models/mlp.h"
#include "lmlab/train/finite_check.h"
#include "lmlab/train/step_memory.h"
#include "registry.h"
#include "common/optim_config.h"
#include "common/stats.h"

namespace lmlab {
namespace {

Row train_student(RunContext& ctx, int64_t width, const RegressionData& train, const RegressionData& test) {
  const Config& cfg = ctx.config();
  seed_everything(derive_seed(ctx.seed(), "student-" + std::to_string(width)));
  MLP student(MLPOptions(train.x.size(1), {width}, 1));
  check_step_memory("a student of width " + std::to_string(width), train.x.size(0), step_bytes(student, train.x.size(0)),
                    "lower n_train or widths (every step is on the whole training set)");
  optim::PluggedOptimizer opt(student->parameters(),
                              plugged_optimizer_options(cfg, "adam", cfg.get_float("train.lr"), 0.0,
                                                        derive_seed(ctx.seed(), "optim-" + std::to_string(width))));
  const int64_t steps = cfg.get_int("train.steps"), log_every = cfg.get_int("train.log_every");
  Progress bar("width " + std::to_string(width), steps, ctx.log_sink());
  double train_mse = 0;
  for (int64_t step = 1; step <= steps; ++step) {
    torch::Tensor loss = torch::mse_loss(student->forward(train.x), train.y);
    opt.zero_grad();
    loss.backward();
    train_mse = loss.item<double>();
    check_finite_loss(train_mse, *student, step, "lower train.lr");
    opt.step();
    if (step % log_every == 0 || step == steps) {
      ctx.metric({{"width", width}, {"step", step}, {"train_mse", train_mse}});
      bar.advance(step % log_every == 0 ? log_every : step % log_every, "mse " + std::to_string(train_mse));
    }
  }
  bar.finish();
  torch::NoGradGuard no_grad;
  const double test_mse = torch::mse_loss(student->forward(test.x), test.y).item<double>();
  const double rel = test_mse / test.y.var().item<double>();
  return {{"width", width}, {"train_mse", train_mse}, {"test_mse", test_mse}, {"relative_test_mse", rel}};
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  plugged_optimizer_options(cfg, "adam", cfg.get_float("train.lr"), 0.0, 0);  // optim.* checked before any work
  for (const char* key : {"train.steps", "train.log_every", "n_train", "dim", "teacher_width"})
    LMLAB_CHECK(cfg.get_int(key) >= 1, UsageError, key, " must be >= 1; got ", cfg.get_int(key));
  LMLAB_CHECK(cfg.get_int("n_test") >= 2, UsageError, "n_test must be >= 2 (the relative test MSE divides by Var(y)); got ",
              cfg.get_int("n_test"));
  const TwoLayerTeacher teacher(TeacherOptions()
                                    .dim(cfg.get_int("dim"))
                                    .teacher_width(cfg.get_int("teacher_width"))
                                    .noise_std(cfg.get_float("noise_std"))
                                    .seed(derive_seed(ctx.seed(), "teacher")));
  const RegressionData train = teacher.sample(cfg.get_int("n_train"), derive_seed(ctx.seed(), "train"));
  const RegressionData test = teacher.sample(cfg.get_int("n_test"), derive_seed(ctx.seed(), "test"));

  std::vector<double> widths;
  std::vector<Row> rows;
  for (int64_t w : cfg.get_int_list("widths")) {
    LMLAB_CHECK(w >= 1, UsageError, "widths must be >= 1, got ", w);
    rows.push_back(ctx.sweep_point("width=" + std::to_string(w), [&] { return train_student(ctx, w, train, test); }));
    widths.push_back(w);
  }
  const std::vector<double> train_mse = column(rows, "train_mse"), test_mse = column(rows, "test_mse"),
                            rel = column(rows, "relative_test_mse");
  LMLAB_CHECK(widths.size() >= 2, UsageError, "widths needs at least two entries to measure a trend");
  const double slope = loglog_slope(widths, rel);
  ctx.result("widths", FloatList(widths));
  ctx.result("train_mse", FloatList(train_mse));
  ctx.result("test_mse", FloatList(test_mse));
  ctx.result("relative_test_mse", FloatList(rel));
  ctx.result("loglog_slope", slope);

  ctx.plot(LinePlot("Students learning a width-" + std::to_string(cfg.get_int("teacher_width")) + " teacher", "student width", "MSE").log_xy().with(
                    {{"train", widths, train_mse, {}}, {"test", widths, test_mse, {}}}),
           "mse_vs_width");
  ctx.claim(make_claim("widest_student_learns_teacher",
                       "the widest student learns the teacher: test MSE / Var(y) < 0.1", rel.back(),
                       Comparator::Less, 0.1).shown_in("mse_vs_width"));
  ctx.claim(make_claim("width_helps", "relative test MSE falls with width: log-log slope < 0", slope,
                       Comparator::Less, 0.0).shown_in("mse_vs_width"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(foundation, teacher_student, run,
                        ExperimentInfo("foundation (no paper)",
                                       "students of growing width learn a random two-layer teacher")
                            .sweep()
                            .section("optim")
                            .quick_seconds(1))

}  // namespace lmlab
