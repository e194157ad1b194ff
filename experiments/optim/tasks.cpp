// The optim.* experiments' problems and training loop (tasks.h).
#include "optim/tasks.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/curves.h"
#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/fashion_mnist.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/text_corpus.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/optim/reject_accelerating.h"
#include "lmlab/train/evaluate.h"
#include "lmlab/train/step_memory.h"

namespace lmlab {
namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kDouble);

double no_grad_value(const std::function<torch::Tensor()>& f) {
  torch::NoGradGuard no_grad;
  return f().item<double>();
}

torch::Tensor draw(int64_t batch, int64_t n, torch::Generator& g) {
  return torch::randint(0, n, {batch}, g, torch::kLong);
}

// X [n, d] with column j scaled by condition^(j/(d-1)), y = X w* + noise: the n training rows,
// then `holdout`, then `test` rows, all of one w*.
OptimTask least_squares(const Config& cfg, uint64_t seed) {
  const int64_t d = cfg.get_int("dim"), n = cfg.get_int("points"), h = cfg.get_int("holdout"),
                t = cfg.get_int("test_points");
  torch::Generator g = make_generator(seed);
  const auto scale = torch::pow(cfg.get_float("condition"), torch::arange(d, kF64) / static_cast<double>(d - 1));
  const auto x = torch::randn({n + h + t, d}, g, kF64) * scale;
  const auto w_star = torch::randn({d}, g, kF64);
  const auto y = x.mv(w_star) + cfg.get_float("noise") * torch::randn({n + h + t}, g, kF64);
  const auto xs = x.split_with_sizes({n, h, t}), ys = y.split_with_sizes({n, h, t});
  const auto loss = [](const torch::Tensor& w, const torch::Tensor& xb, const torch::Tensor& yb) {
    return 0.5 * (xb.mv(w) - yb).pow(2).mean();
  };
  const auto w_ls = std::get<0>(torch::linalg_lstsq(xs[0], ys[0].unsqueeze(1))).squeeze(1);
  const double best = loss(w_ls, xs[0], ys[0]).item<double>();
  OptimTask task{"least_squares", "excess loss L(w) - L(w_ls)", "test_loss", true, {}};
  task.model = [=](uint64_t) {
    const auto w = torch::zeros({d}, kF64).requires_grad_();
    TaskModel m;
    m.parameters = {w};
    m.batch_loss = [=](int64_t batch, torch::Generator& gen) {
      if (batch == 0) return loss(w, xs[0], ys[0]);
      const auto idx = draw(batch, n, gen);
      return loss(w, xs[0].index_select(0, idx), ys[0].index_select(0, idx));
    };
    m.objective = [=] { return no_grad_value([&] { return loss(w, xs[0], ys[0]); }) - best; };
    m.heldout = [=] { return no_grad_value([&] { return loss(w, xs[1], ys[1]); }); };
    m.test = [=] { return no_grad_value([&] { return loss(w, xs[2], ys[2]); }); };
    return m;
  };
  return task;
}

// Images [N, 784] in the float type `dtype`, a column of ones appended when `bias`.
torch::Tensor features(const ImageDataset& ds, torch::Dtype dtype, bool bias) {
  const auto x = ds.images.reshape({ds.size(), -1}).to(dtype);
  return bias ? torch::cat({x, torch::ones({ds.size(), 1}, x.options())}, 1) : x;
}

// Softmax regression (a linear map) or an MLP on a Fashion-MNIST subset: `forward` maps the
// features of `f` to logits given the model's parameters.
OptimTask fashion_mnist(const std::string& problem, const Config& cfg, uint64_t seed) {
  const bool softmax = problem == "fmnist_softmax";
  const int64_t n = cfg.get_int("fmnist.points"), h = cfg.get_int("fmnist.holdout");
  const ImageDataset all = load_fashion_mnist(ImageSplit::Train);
  LMLAB_CHECK(n + h <= all.size(), UsageError, "fmnist.points + fmnist.holdout must be at most ", all.size(),
              " (the training images); got ", n, " + ", h);
  const HoldoutSplit parts = split_off(split_off(all, n + h, seed).holdout, h, derive_seed(seed, "holdout"));
  const torch::Dtype dtype = softmax ? torch::kDouble : torch::kFloat;
  const auto x = features(parts.train, dtype, softmax), x_h = features(parts.holdout, dtype, softmax);
  const ImageDataset test_set = load_fashion_mnist(ImageSplit::Test);
  const auto x_t = features(test_set, dtype, softmax);
  const auto y = parts.train.labels, y_h = parts.holdout.labels, y_t = test_set.labels;
  const IntList hidden = softmax ? IntList{} : cfg.get_int_list("mlp.hidden");
  OptimTask task{problem, "training cross-entropy", "test_accuracy", softmax, {}};
  task.model = [=](uint64_t model_seed) {
    std::function<torch::Tensor(const torch::Tensor&)> forward;
    TaskModel m;
    if (softmax) {
      const auto w = torch::zeros({x.size(1), kFashionMnistClasses}, kF64).requires_grad_();
      m.parameters = {w};
      forward = [w](const torch::Tensor& f) { return f.mm(w); };
    } else {
      seed_everything(model_seed);
      MLP mlp(MLPOptions(x.size(1), hidden, kFashionMnistClasses));
      m.parameters = mlp->parameters();
      m.step_bytes = [mlp, n](int64_t batch) mutable { return step_bytes(mlp, batch == 0 ? n : batch); };
      forward = [mlp](const torch::Tensor& f) mutable { return mlp->forward(f); };
    }
    const auto ce = [forward](const torch::Tensor& f, const torch::Tensor& l) {
      return torch::nn::functional::cross_entropy(forward(f), l);
    };
    m.batch_loss = [=](int64_t batch, torch::Generator& gen) {
      if (batch == 0) return ce(x, y);
      const auto idx = draw(batch, n, gen);
      return ce(x.index_select(0, idx), y.index_select(0, idx));
    };
    m.objective = [=] { return no_grad_value([&] { return ce(x, y); }); };
    m.heldout = [=] { return no_grad_value([&] { return ce(x_h, y_h); }); };
    m.test = [=] {
      return no_grad_value([&] { return forward(x_t).argmax(1).eq(y_t).to(torch::kDouble).mean(); });
    };
    return m;
  };
  return task;
}

OptimTask fortunes_gpt(const Config& cfg, uint64_t seed) {
  const std::vector<Document> docs = load_fortunes();
  const auto train = std::make_shared<TextBatcher>(make_token_stream(select_split(docs, TextSplit::Train)));
  const auto val = std::make_shared<TextBatcher>(make_token_stream(select_split(docs, TextSplit::Validation)));
  const auto test = std::make_shared<TextBatcher>(make_token_stream(select_split(docs, TextSplit::Test)));
  const GPTOptions options = GPTOptions()
                                 .context(cfg.get_int("gpt.context"))
                                 .layers(cfg.get_int("gpt.layers"))
                                 .heads(cfg.get_int("gpt.heads"))
                                 .width(cfg.get_int("gpt.width"));
  const int64_t eval_batches = cfg.get_int("gpt.eval_batches");
  torch::Generator g = make_generator(seed);
  const TokenBatch windows = train->sample(cfg.get_int("gpt.objective_windows"), options.context(), g);
  OptimTask task{"fortunes_gpt", "training loss (nats per byte)", "test_bpb", false, {}};
  task.model = [=](uint64_t model_seed) {
    seed_everything(model_seed);
    GPT gpt(options);
    TaskModel m;
    m.parameters = gpt->parameters();
    m.step_bytes = [gpt](int64_t batch) mutable { return step_bytes(gpt, batch); };
    m.batch_loss = [=](int64_t batch, torch::Generator& gen) mutable {
      const TokenBatch b = train->sample(batch, options.context(), gen);
      return lm_loss(gpt->forward(b.x), b.y).loss;
    };
    m.objective = [=]() mutable {
      return no_grad_value([&] { return lm_loss(gpt->forward(windows.x), windows.y).loss; });
    };
    m.heldout = [=]() mutable { return evaluate_bpb(gpt, *val, eval_batches); };
    m.test = [=]() mutable { return evaluate_bpb(gpt, *test, eval_batches); };
    return m;
  };
  return task;
}

}  // namespace

const StringList& optim_problems() {
  static const StringList problems{"least_squares", "fmnist_softmax", "fmnist_mlp", "fortunes_gpt"};
  return problems;
}

void check_optim_task(const std::string& problem, const Config& cfg) {
  const auto at_least = [&](const std::string& key, int64_t min) {
    LMLAB_CHECK(cfg.get_int(key) >= min, UsageError, key, " must be >= ", min, "; got ", cfg.get_int(key));
  };
  if (problem == "least_squares") {
    const int64_t d = cfg.get_int("dim"), n = cfg.get_int("points");
    LMLAB_CHECK(d >= 2 && n >= d, UsageError, "need dim >= 2 and points >= dim; got dim ", d, ", points ", n);
    const double condition = cfg.get_float("condition"), noise = cfg.get_float("noise");
    LMLAB_CHECK(condition >= 1 && std::isfinite(condition) && noise >= 0 && std::isfinite(noise), UsageError,
                "need a finite condition >= 1 and noise >= 0; got condition ", condition, ", noise ", noise);
    at_least("holdout", 1);
    at_least("test_points", 1);
  } else if (problem == "fmnist_softmax" || problem == "fmnist_mlp") {
    at_least("fmnist.points", 1);
    at_least("fmnist.holdout", 1);
    if (problem == "fmnist_mlp")
      for (const int64_t w : cfg.get_int_list("mlp.hidden"))
        LMLAB_CHECK(w >= 1, UsageError, "mlp.hidden widths must be >= 1; got ", w);
  } else {
    LMLAB_CHECK(problem == "fortunes_gpt", UsageError, "unknown problem '", problem,
                "'; use least_squares, fmnist_softmax, fmnist_mlp or fortunes_gpt");
    for (const char* key : {"gpt.context", "gpt.layers", "gpt.heads", "gpt.width", "gpt.objective_windows", "gpt.eval_batches"})
      at_least(key, 1);
    LMLAB_CHECK(cfg.get_int("gpt.width") % cfg.get_int("gpt.heads") == 0, UsageError,
                "gpt.width must be a multiple of gpt.heads; got ", cfg.get_int("gpt.width"), " and ",
                cfg.get_int("gpt.heads"));
  }
}

OptimTask make_optim_task(const std::string& problem, const Config& cfg, uint64_t seed) {
  check_optim_task(problem, cfg);
  if (problem == "least_squares") return least_squares(cfg, seed);
  if (problem == "fortunes_gpt") return fortunes_gpt(cfg, seed);
  return fashion_mnist(problem, cfg, seed);
}

TrainCurve train_curve(const TaskModel& model, TrainOptimizer& optimizer, int64_t steps, int64_t batch, int64_t every,
                       torch::Generator& g, const std::function<void()>& on_eval) {
  using Clock = std::chrono::steady_clock;
  if (model.step_bytes)
    check_step_memory("the task's model", batch, model.step_bytes(batch), "lower the task's batch or model size");
  TrainCurve c;
  c.objective.push_back(model.objective());
  c.seconds.push_back(0);
  double seconds = 0;
  for (int64_t s = 1; s <= steps && !c.diverged; ++s) {
    const auto t0 = Clock::now();
    optimizer.zero_grad();
    const auto loss = model.batch_loss(batch, g);
    c.diverged = !std::isfinite(loss.item<double>());
    if (c.diverged) break;
    loss.backward();
    optimizer.step();
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    if (s % every != 0) continue;
    const double objective = model.objective();
    c.diverged = !(objective <= 1e3 * c.objective.front());  // NaN too
    if (c.diverged) break;
    c.objective.push_back(objective);
    c.seconds.push_back(seconds);
    if (on_eval) on_eval();
  }
  const size_t points = static_cast<size_t>(steps / every) + 1;
  c.objective.resize(points, INFINITY);
  c.seconds.resize(points, NAN);
  c.heldout = c.diverged ? INFINITY : model.heldout();
  c.test = c.diverged ? NAN : model.test();
  return c;
}

TaskSettings task_settings(const Config& cfg, const std::string& section) {
  TaskSettings t{section, cfg.has(section + ".problem") ? cfg.get_string(section + ".problem") : section,
                 cfg.get_int(section + ".steps"), cfg.get_int(section + ".batch"), cfg.get_int(section + ".eval_every")};
  LMLAB_CHECK(t.steps >= 1 && t.every >= 1 && t.batch >= 0, UsageError, "task ", section,
              ": need steps >= 1, eval_every >= 1 and batch >= 0 (0: full batches); got steps ", t.steps,
              ", eval_every ", t.every, ", batch ", t.batch);
  check_optim_task(t.problem, cfg);
  return t;
}

double task_lr(const Config& cfg, const std::string& section, const std::string& base) {
  const std::string key = section + ".lr_" + base;
  LMLAB_CHECK(cfg.has(key), UsageError, "no learning rate ", key, " for base '", base,
              "': the bases are sgd, sgd_momentum, adagrad and adam, each with its lr in the task's section");
  const double lr = cfg.get_float(key);
  LMLAB_CHECK(std::isfinite(lr) && lr > 0, UsageError, key, " must be finite and > 0; got ", lr);
  return lr;
}

optim::PluggedOptimizerOptions base_options(const std::string& base, double lr) {
  auto o = optim::PluggedOptimizerOptions().lr(lr);
  if (base == "sgd" || base == "sgd_momentum") return o.name("sgd").momentum(base == "sgd" ? 0.0 : 0.9);
  LMLAB_CHECK(base == "adagrad" || base == "adam", UsageError, "unknown base '", base,
              "'; use sgd, sgd_momentum, adagrad or adam");
  return o.name(base);
}

Row run_task(const OptimTask& task, const TaskSettings& settings, const optim::PluggedOptimizerOptions& options,
             uint64_t model_seed, uint64_t batch_seed) {
  const TaskModel model = task.model(model_seed);
  optim::PluggedOptimizer optimizer(model.parameters, options);
  torch::Generator g = make_generator(batch_seed);
  FloatList lrs{optimizer.lr()};
  const TrainCurve c = train_curve(model, optimizer, settings.steps, settings.batch, settings.every, g,
                                   [&] { lrs.push_back(optimizer.lr()); });
  lrs.resize(c.objective.size(), optimizer.lr());  // the lr it diverged at, if it did
  Row row{{"objective", c.objective}, {"seconds", c.seconds},          {"lrs", lrs},
          {"final", c.objective.back()}, {"selection_loss", c.heldout}, {"test", c.test},
          {"diverged", c.diverged ? 1.0 : 0.0}};
  if (options.accel() == "reject") {
    const auto* plugin = optimizer.plugin();
    const auto& ra = dynamic_cast<const optim::RejectAccelerating&>(*plugin);
    row.emplace_back("rejected_fraction",
                     static_cast<double>(ra.rejected()) / static_cast<double>(std::max<int64_t>(1, ra.steps())));
  }
  return row;
}

Series objective_series(const MethodRuns& m, int64_t every, bool wall) {
  Series s = median_curve(m.rows, "objective", static_cast<double>(every), m.name);
  for (size_t i = 0; wall && i < s.x.size(); ++i) {
    std::vector<double> t;  // diverged seeds have no time there
    for (const Row& r : m.rows)
      if (const double seconds = std::get<FloatList>(row_value(r, "seconds"))[i]; std::isfinite(seconds)) t.push_back(seconds);
    s.x[i] = t.empty() ? NAN : median_of(t);
  }
  return s;
}

void report_methods(RunContext& ctx, const OptimTask& task, const TaskSettings& settings, const std::string& prefix,
                    const std::string& title, const std::string& stem, const std::vector<MethodRuns>& methods) {
  std::vector<Series> by_step, by_time;
  for (const MethodRuns& m : methods) {
    std::vector<double> tests;
    double diverged = 0;
    for (const Row& r : m.rows) {
      diverged += row_number(r, "diverged");
      if (std::isfinite(row_number(r, "test"))) tests.push_back(row_number(r, "test"));
    }
    const auto [mean, ci] = tests.empty() ? std::pair<double, double>{NAN, NAN} : mean_ci95(tests);
    ctx.result(prefix + "." + m.name + ".final", median_of(column(m.rows, "final")));
    ctx.result(prefix + "." + m.name + "." + task.test_name, mean);
    ctx.result(prefix + "." + m.name + "." + task.test_name + "_ci95", ci);
    ctx.result(prefix + "." + m.name + ".diverged_runs", diverged);
    by_step.push_back(objective_series(m, settings.every, false));
    by_time.push_back(objective_series(m, settings.every, true));
  }
  const std::string t = title + ": median over seeds, band from the lowest to the highest";
  ctx.plot(LinePlot(t, "step", task.objective_label).log_y().with(by_step), stem);
  ctx.plot(LinePlot(t, "training wall time (s)", task.objective_label).log_y().with(by_time), stem + "_time");
}

}  // namespace lmlab
