// The optim.* experiments' convex problems (convex_tasks.h).
#include "optim/convex_tasks.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/fashion_mnist.h"

namespace lmlab {

torch::Tensor ConvexTask::init() const {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  return (classes ? torch::zeros({x.size(1), classes}, f64) : torch::zeros({x.size(1)}, f64)).requires_grad_();
}

torch::Tensor ConvexTask::loss(const torch::Tensor& w, const torch::Tensor& idx) const {
  const auto xb = idx.defined() ? x.index_select(0, idx) : x, yb = idx.defined() ? y.index_select(0, idx) : y;
  if (classes) return torch::nn::functional::cross_entropy(xb.mm(w), yb);
  return 0.5 * (xb.mv(w) - yb).pow(2).mean();
}

double ConvexTask::excess(const torch::Tensor& w) const {
  torch::NoGradGuard no_grad;
  return loss(w).item<double>() - best_loss;
}

void check_convex_task(const std::string& name, const Config& cfg) {
  if (name == "least_squares") {
    const int64_t d = cfg.get_int("dim"), n = cfg.get_int("points");
    LMLAB_CHECK(d >= 2 && n >= d, UsageError, "need dim >= 2 and points >= dim; got dim ", d, ", points ", n);
    const double condition = cfg.get_float("condition"), noise = cfg.get_float("noise");
    LMLAB_CHECK(condition >= 1 && std::isfinite(condition) && noise >= 0 && std::isfinite(noise), UsageError,
                "need a finite condition >= 1 and noise >= 0; got condition ", condition, ", noise ", noise);
    return;
  }
  LMLAB_CHECK(name == "fmnist_softmax", UsageError, "unknown task '", name, "'; use least_squares or fmnist_softmax");
  LMLAB_CHECK(cfg.get_int("fmnist.points") >= 1, UsageError, "fmnist.points must be >= 1; got ",
              cfg.get_int("fmnist.points"));
}

ConvexTask make_convex_task(const std::string& name, const Config& cfg, uint64_t seed) {
  check_convex_task(name, cfg);
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  ConvexTask t;
  t.name = name;
  if (name == "least_squares") {
    const int64_t d = cfg.get_int("dim"), n = cfg.get_int("points");
    const double condition = cfg.get_float("condition"), noise = cfg.get_float("noise");
    torch::Generator g = make_generator(seed);
    const auto scale = torch::pow(condition, torch::arange(d, f64) / static_cast<double>(d - 1));
    t.x = torch::randn({n, d}, g, f64) * scale;
    const auto w_star = torch::randn({d}, g, f64);
    t.y = t.x.mv(w_star) + noise * torch::randn({n}, g, f64);
    const auto w_ls = std::get<0>(torch::linalg_lstsq(t.x, t.y.unsqueeze(1))).squeeze(1);
    t.best_loss = t.loss(w_ls).item<double>();
    return t;
  }
  const ImageDataset train = load_fashion_mnist(ImageSplit::Train);
  const int64_t n = cfg.get_int("fmnist.points");
  LMLAB_CHECK(n <= train.size(), UsageError, "fmnist.points must be in [1, ", train.size(), "]; got ", n);
  const ImageDataset part = split_off(train, n, seed).holdout;
  t.x = torch::cat({part.images.reshape({n, -1}).to(torch::kDouble), torch::ones({n, 1}, f64)}, 1);
  t.y = part.labels;
  t.classes = 10;
  return t;
}

FloatList excess_curve(const ConvexTask& task, const torch::Tensor& w, torch::optim::Optimizer& optimizer,
                       int64_t steps, int64_t batch, int64_t every, torch::Generator& g,
                       const std::function<void()>& step, const std::function<void()>& on_eval) {
  FloatList excess{task.excess(w)};
  for (int64_t s = 1; s <= steps; ++s) {
    optimizer.zero_grad();
    const auto loss = task.loss(w, batch == 0 ? torch::Tensor() : torch::randint(0, task.size(), {batch}, g, torch::kLong));
    if (!std::isfinite(loss.item<double>())) break;
    loss.backward();
    step();
    if (s % every != 0) continue;
    const double e = task.excess(w);
    if (!(e <= 1e3 * excess.front())) break;  // diverged (or NaN)
    excess.push_back(e);
    if (on_eval) on_eval();
  }
  excess.resize(static_cast<size_t>(steps / every) + 1, INFINITY);  // infinite after a divergence
  return excess;
}

}  // namespace lmlab
