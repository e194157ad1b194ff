// The problems of the optim.* experiments: convex ones where the optimum is known or the loss is
// convex, and small networks where neither holds. A task makes fresh models; each model gives its
// parameters, a mini-batch loss, the objective its curves track, the held-out loss a learning rate
// is chosen on, and a test metric.
//
//   least_squares   L(w) = 1/(2n) ||X w - y||^2, X [n, d] Gaussian with column j scaled by
//                   condition^(j / (d - 1)), y = X w* + noise, float64, w from 0. Objective
//                   L(w) - L(w_ls); held-out and test: L on `holdout` and `test_points` fresh points.
//   fmnist_softmax  softmax regression on fmnist.points Fashion-MNIST training images (pixels in
//                   [0, 1] and a bias feature), float64, w from 0. Objective: training cross-entropy;
//                   held-out: cross-entropy on fmnist.holdout other training images; test: accuracy
//                   on the 10,000 test images.
//   fmnist_mlp      the same data through MLP(784, mlp.hidden, 10) with ReLU, float32, LibTorch's
//                   default initialisation from the model seed.
//   fortunes_gpt    a byte-level GPT (gpt.layers, heads, width, context) on the fortunes corpus,
//                   float32. Objective: nats per byte on gpt.objective_windows training windows
//                   drawn once per task; held-out: bits per byte on the first gpt.eval_batches
//                   validation batches; test: the same on the test split.
//
// Config keys, by problem: dim, points, noise, condition, holdout, test_points (least squares);
// fmnist.points, fmnist.holdout (both Fashion-MNIST tasks); mlp.hidden; gpt.*. An experiment's
// task is a config section: <task>.problem (default: the section's name), <task>.steps,
// <task>.batch (0: full batches), <task>.eval_every and <task>.lr_<base>, each base's learning rate.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/core/config.h"
#include "lmlab/core/run.h"
#include "lmlab/core/value.h"
#include "lmlab/optim/plugged_optimizer.h"

namespace lmlab {

// One model of a task.
struct TaskModel {
  std::vector<torch::Tensor> parameters;
  // The loss on `batch` training examples drawn with replacement from `g` (0: the whole training
  // set, no draw), differentiable in the parameters.
  std::function<torch::Tensor(int64_t batch, torch::Generator& g)> batch_loss;
  // Without gradients: the tracked objective, the held-out loss, the test metric.
  std::function<double()> objective, heldout, test;
  // The memory a training step on `batch` examples needs (step_bytes, lmlab/train/step_memory.h);
  // empty for the tasks too small to matter.
  std::function<double(int64_t batch)> step_bytes;
};

struct OptimTask {
  std::string problem;          // least_squares | fmnist_softmax | fmnist_mlp | fortunes_gpt
  std::string objective_label;  // the objective's axis label
  std::string test_name;        // "test_loss", "test_accuracy" or "test_bpb"
  bool convex = false;
  // A fresh model, its initialisation drawn from `seed` where it is random.
  std::function<TaskModel(uint64_t seed)> model;
};

// The problems above, in order.
const StringList& optim_problems();
// UsageError unless `problem` is one of them and its config keys are in range; before any work.
void check_optim_task(const std::string& problem, const Config& cfg);
// The task `problem` (check_optim_task first); its data (the least-squares draw, the Fashion-MNIST
// subset, the GPT's objective windows) from `seed`.
OptimTask make_optim_task(const std::string& problem, const Config& cfg, uint64_t seed);

struct TrainCurve {
  FloatList objective;  // at step 0, every, 2 every, ...; infinite from a divergence on
  FloatList seconds;    // training wall time up to each of those steps (evaluation excluded)
  double heldout = 0, test = 0;  // at the end; infinite held-out loss and NaN test after a divergence
  bool diverged = false;
};

// `steps` steps of `optimizer` on `model`: zero_grad, batch_loss(batch, g), backward, step. Every
// `every` steps the objective is recorded and `on_eval` called. A non-finite loss, or an
// objective that is NaN or above 1000 times its start, is a divergence: training stops there.
TrainCurve train_curve(const TaskModel& model, TrainOptimizer& optimizer, int64_t steps, int64_t batch, int64_t every,
                       torch::Generator& g, const std::function<void()>& on_eval = {});

// One task section of an experiment's config.
struct TaskSettings {
  std::string section, problem;
  int64_t steps = 0, batch = 0, every = 0;
};
// The section `section`, checked (counts >= 1, batch >= 0, the problem's keys); UsageError naming
// the key otherwise.
TaskSettings task_settings(const Config& cfg, const std::string& section);
// <section>.lr_<base>: UsageError when missing (naming the base) or not finite and > 0.
double task_lr(const Config& cfg, const std::string& section, const std::string& base);

// The base optimizer `base` (sgd, sgd_momentum: SGD with momentum 0.9, adagrad, adam) at `lr`.
optim::PluggedOptimizerOptions base_options(const std::string& base, double lr);

// One run: a fresh model from `model_seed`, PluggedOptimizer(`options`), batches from
// `batch_seed`. Row: "objective", "seconds" and "lr" curves (every `every` steps from step 0),
// "final" objective, "selection_loss" (held-out), "test", "diverged" (0/1) and, under Reject
// Accelerating, "rejected_fraction".
Row run_task(const OptimTask& task, const TaskSettings& settings, const optim::PluggedOptimizerOptions& options,
             uint64_t model_seed, uint64_t batch_seed);

// A method's runs over seeds (run_task rows).
struct MethodRuns {
  std::string name;
  std::vector<Row> rows;
};
// The median objective curve of `m` over its seeds against steps, with the band from the lowest to
// the highest seed; the x axis is the step, or (`wall`) the median training seconds.
Series objective_series(const MethodRuns& m, int64_t every, bool wall);
// Results <prefix>.<method>.{final, test, test_ci95, diverged_runs} (median final objective, mean
// test metric and its 95% interval over seeds, count of diverged seeds), and two plots of the
// methods' median objective with seed bands, against steps (<stem>) and wall time (<stem>_time).
void report_methods(RunContext& ctx, const OptimTask& task, const TaskSettings& settings, const std::string& prefix,
                    const std::string& title, const std::string& stem, const std::vector<MethodRuns>& methods);

}  // namespace lmlab
