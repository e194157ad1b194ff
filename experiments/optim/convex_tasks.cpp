// The optim.* experiments' convex problems (convex_tasks.h).
#include "optim/convex_tasks.h"

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

ConvexTask make_convex_task(const std::string& name, const Config& cfg, uint64_t seed) {
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  ConvexTask t;
  t.name = name;
  if (name == "least_squares") {
    const int64_t d = cfg.get_int("dim"), n = cfg.get_int("points");
    LMLAB_CHECK(d >= 2 && n >= d, UsageError, "need dim >= 2 and points >= dim; got dim ", d, ", points ", n);
    const double condition = cfg.get_float("condition"), noise = cfg.get_float("noise");
    LMLAB_CHECK(condition >= 1 && noise >= 0, UsageError, "need condition >= 1 and noise >= 0");
    torch::Generator g = make_generator(seed);
    const auto scale = torch::pow(condition, torch::arange(d, f64) / static_cast<double>(d - 1));
    t.x = torch::randn({n, d}, g, f64) * scale;
    const auto w_star = torch::randn({d}, g, f64);
    t.y = t.x.mv(w_star) + noise * torch::randn({n}, g, f64);
    const auto w_ls = std::get<0>(torch::linalg_lstsq(t.x, t.y.unsqueeze(1))).squeeze(1);
    t.best_loss = t.loss(w_ls).item<double>();
    return t;
  }
  LMLAB_CHECK(name == "fmnist_softmax", UsageError, "unknown task '", name, "'; use least_squares or fmnist_softmax");
  const ImageDataset train = load_fashion_mnist(ImageSplit::Train);
  const int64_t n = cfg.get_int("fmnist.points");
  LMLAB_CHECK(n >= 1 && n <= train.size(), UsageError, "fmnist.points must be in [1, ", train.size(), "]; got ", n);
  const ImageDataset part = split_off(train, n, seed).holdout;
  t.x = torch::cat({part.images.reshape({n, -1}).to(torch::kDouble), torch::ones({n, 1}, f64)}, 1);
  t.y = part.labels;
  t.classes = 10;
  return t;
}

}  // namespace lmlab
