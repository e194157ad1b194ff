// Problems and twin training for the 1-bit two-layer experiments (two_layer_twins.h).
#include "two_layer_twins.h"

#include <cmath>
#include <map>
#include <string>
#include <tuple>

#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/fashion_mnist.h"
#include "lmlab/data/synthetic.h"
#include "lmlab/onebit/two_layer.h"

namespace lmlab::onebit {
namespace {

// Rows scaled to norm sqrt(d).
torch::Tensor to_sphere(const torch::Tensor& x) {
  return x / x.norm(2, 1, true).clamp_min(1e-12) * std::sqrt(static_cast<double>(x.size(1)));
}

// Pooled, flattened images of two classes with labels +1 / -1, the first n in a seeded order.
std::pair<torch::Tensor, torch::Tensor> fmnist_pair(ImageSplit split, const std::vector<int64_t>& classes,
                                                    int64_t pool, int64_t n, uint64_t seed) {
  const ImageDataset two = select_classes(load_fashion_mnist(split), classes, /*relabel=*/true);
  LMLAB_CHECK(n <= two.size(), UsageError, "asked for ", n, " Fashion-MNIST examples of classes ", classes[0], ", ",
              classes[1], " but the split has ", two.size());
  const ImageDataset subset = split_off(two, n, seed).holdout;
  const torch::Tensor x = torch::avg_pool2d(subset.images, pool).flatten(1);
  return {x, 1.0 - 2.0 * subset.labels.to(torch::kFloat)};  // class[0] -> +1, class[1] -> -1
}

}  // namespace

TwinProblem make_twin_problem(const Config& cfg, const std::string& target, uint64_t seed) {
  const int64_t n_train = cfg.get_int("n_train"), n_test = cfg.get_int("n_test"), n_probe = cfg.get_int("n_probe"),
                n_mean = cfg.get_int("n_mean");
  LMLAB_CHECK(n_train >= 2 && n_test >= 1 && n_probe >= 2 && n_probe <= n_train && n_mean >= 1, UsageError,
              "need n_train >= 2, n_test >= 1, 2 <= n_probe <= n_train and n_mean >= 1; got ", n_train, ", ", n_test,
              ", ", n_probe, ", ", n_mean);
  TwinProblem p;
  p.target = target;
  if (target == "sphere") {
    const int64_t d = cfg.get_int("dim");
    const TwoLayerTeacher teacher(TeacherOptions().dim(d).teacher_width(cfg.get_int("teacher_width")).seed(
        derive_seed(seed, "teacher")));
    const auto draw = [&](int64_t n, const char* part) {
      return to_sphere(unit_sphere(n, d, derive_seed(seed, part)));
    };
    p.x_train = draw(n_train, "train");
    p.x_test = draw(n_test, "test");
    p.x_mean = draw(n_mean, "mean");
    p.y_train = teacher(p.x_train).squeeze(1);
    p.y_test = teacher(p.x_test).squeeze(1);
    p.y_mean = teacher(p.x_mean).squeeze(1);
  } else if (target == "fmnist") {
    const std::vector<int64_t> classes = cfg.get_int_list("fmnist.classes");
    LMLAB_CHECK(classes.size() == 2 && classes[0] != classes[1], UsageError,
                "fmnist.classes must name two different classes, e.g. [0, 6]");
    const int64_t pool = cfg.get_int("fmnist.pool");
    LMLAB_CHECK(pool >= 1 && 28 % pool == 0, UsageError, "fmnist.pool must divide 28, got ", pool);
    auto [x_train, y_train] = fmnist_pair(ImageSplit::Train, classes, pool, n_train, derive_seed(seed, "train"));
    auto [x_test, y_test] = fmnist_pair(ImageSplit::Test, classes, pool, n_test, derive_seed(seed, "test"));
    const torch::Tensor mean = x_train.mean(0), sd = x_train.std(0).clamp_min(1e-3);
    p.x_train = to_sphere((x_train - mean) / sd);
    p.x_test = to_sphere((x_test - mean) / sd);
    p.y_train = y_train;
    p.y_test = y_test;
    p.x_mean = p.x_test;
    p.y_mean = p.y_test;
  } else {
    throw UsageError("unknown target '" + target + "'; use sphere or fmnist");
  }
  p.x_probe = p.x_train.slice(0, 0, n_probe);
  p.constant_share = p.y_mean.mean().pow(2).item<double>() / p.y_mean.pow(2).mean().item<double>();
  return p;
}

namespace {

// train_twins without the reuse of earlier results.
Row train_twins_once(RunContext& ctx, const TwinProblem& problem, int64_t width, uint64_t seed) {
  const Config& cfg = ctx.config();
  const int64_t steps = cfg.get_int("train.steps");
  const double lr = cfg.get_float("train.lr");
  LMLAB_CHECK(steps >= 1 && lr > 0, UsageError, "train.steps must be >= 1 and train.lr > 0");
  const TwoLayerOptions options = TwoLayerOptions(problem.x_train.size(1), width)
                                      .kappa(cfg.get_float("kappa"))
                                      .bias(two_layer_bias_from_name(cfg.get_string("bias")))
                                      .seed(seed);
  TwoLayerNet bit(options), fp(TwoLayerOptions(options).quantized(false));
  const torch::Tensor w0 = bit->weight.detach().clone();
  const torch::Tensor k0_bit = bit->ntk_gram(problem.x_probe), k0_fp = fp->ntk_gram(problem.x_probe);
  torch::optim::SGD opt_bit(bit->parameters(), lr), opt_fp(fp->parameters(), lr);

  const auto half_mse = [](const torch::Tensor& f, const torch::Tensor& y) { return 0.5 * (f - y).pow(2).mean(); };
  Progress bar("width " + std::to_string(width) + " seed " + std::to_string(seed), steps, ctx.log_sink());
  for (int64_t step = 1; step <= steps; ++step) {
    for (auto [net, opt] : {std::pair{&bit, &opt_bit}, std::pair{&fp, &opt_fp}}) {
      torch::Tensor loss = half_mse((*net)->forward(problem.x_train), problem.y_train);
      opt->zero_grad();
      loss.backward();
      opt->step();
    }
    bar.advance(1);
  }
  bar.finish();

  torch::NoGradGuard no_grad;
  const double y_scale = 0.5 * problem.y_test.pow(2).mean().item<double>();
  Row row = {{"target", problem.target},
             {"width", width},
             {"seed", static_cast<int64_t>(seed)},
             {"target_mean", problem.y_mean.mean().item<double>()}};
  for (auto [name, net, k0] : {std::tuple{"bit", &bit, k0_bit}, std::tuple{"fp", &fp, k0_fp}}) {
    const std::string p = name;
    const torch::Tensor w = (*net)->weight;
    const torch::Tensor k = (*net)->ntk_gram(problem.x_probe);
    row.emplace_back(p + "_train_loss", half_mse((*net)->forward(problem.x_train), problem.y_train).item<double>() /
                             (0.5 * problem.y_train.pow(2).mean().item<double>()));
    row.emplace_back(p + "_test_loss", half_mse((*net)->forward(problem.x_test), problem.y_test).item<double>() / y_scale);
    row.emplace_back(p + "_mean_f", (*net)->forward(problem.x_mean).mean().item<double>());
    row.emplace_back(p + "_movement", ((w - w0).norm() / w0.norm()).item<double>());
    row.emplace_back(p + "_flips", ((w >= 0) != (w0 >= 0)).to(torch::kDouble).mean().item<double>());
    row.emplace_back(p + "_ntk_drift", ((k - k0).norm() / k0.norm()).item<double>());
    row.emplace_back(p + "_ntk_min_eig", torch::linalg_eigvalsh(k0.to(torch::kDouble), "L")[0].item<double>());
  }
  row.emplace_back("train_loss_ratio", row_number(row, "bit_train_loss") / row_number(row, "fp_train_loss"));
  row.emplace_back("gen_difference", ((bit->forward(problem.x_test) - fp->forward(problem.x_test)).abs().mean() /
                           problem.y_test.pow(2).mean().sqrt())
                              .item<double>());
  return row;
}

}  // namespace

Row train_twins(RunContext& ctx, const TwinProblem& problem, int64_t width, uint64_t seed) {
  const Config& cfg = ctx.config();
  static std::map<std::string, Row> finished;  // this process's trainings, by everything they depend on
  const std::string key = cfg.to_toml() + "\n" + problem.target + " " + std::to_string(width) + " " + std::to_string(seed);
  if (const auto it = finished.find(key); it != finished.end()) {
    ctx.log("width " + std::to_string(width) + ": reusing the twins trained earlier in this process");
    return it->second;
  }
  return finished[key] = train_twins_once(ctx, problem, width, seed);
}

std::vector<std::vector<Row>> twin_sweep(RunContext& ctx, const std::string& target) {
  const Config& cfg = ctx.config();
  const IntList widths = cfg.get_int_list("widths"), seeds = cfg.get_int_list("seeds");
  LMLAB_CHECK(widths.size() >= 2 && !seeds.empty(), UsageError, "need >= 2 widths and >= 1 seed");
  std::vector<TwinProblem> problems;
  FloatList shares;
  for (const int64_t seed : seeds) {
    problems.push_back(make_twin_problem(cfg, target, derive_seed(ctx.seed(), "problem-" + std::to_string(seed))));
    shares.push_back(problems.back().constant_share);
  }
  ctx.result(target + ".constant_share", shares);
  std::vector<std::vector<Row>> rows;
  for (const int64_t width : widths) {
    rows.emplace_back();
    for (size_t i = 0; i < seeds.size(); ++i) {
      const std::string key = "target=" + target + ",width=" + std::to_string(width) + ",seed=" + std::to_string(seeds[i]);
      rows.back().push_back(
          ctx.sweep_point(key, [&] { return train_twins(ctx, problems[i], width, derive_seed(ctx.seed(), key)); }));
    }
  }
  return rows;
}

std::vector<double> median_per_width(const std::vector<std::vector<Row>>& rows, const std::string& key) {
  std::vector<double> medians;
  for (const auto& at_width : rows) medians.push_back(median_of(column(at_width, key)));
  return medians;
}

}  // namespace lmlab::onebit
