// Synthetic softmax-regression data (include/lmlab/copyright/softmax_data.h).
#include "lmlab/copyright/softmax_data.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::copyright {

void check_softmax_data_options(const SoftmaxDataOptions& o) {
  constexpr int64_t kLimit = 4096;
  LMLAB_CHECK(o.tasks() >= 2 && o.tasks() <= kLimit, UsageError, "softmax data: tasks must be in [2, ", kLimit,
              "]; got ", o.tasks());
  LMLAB_CHECK(o.copyrighted() >= 1 && o.copyrighted() < o.tasks(), UsageError,
              "softmax data: copyrighted must be in [1, tasks - 1] = [1, ", o.tasks() - 1, "]; got ", o.copyrighted(),
              " (an empty copyrighted set has no L_cp; a full one no L_rest)");
  LMLAB_CHECK(o.rows() >= 2 && o.rows() <= kLimit, UsageError, "softmax data: rows must be in [2, ", kLimit,
              "]; got ", o.rows());
  LMLAB_CHECK(o.dim() >= 1 && o.dim() <= kLimit, UsageError, "softmax data: dim must be in [1, ", kLimit, "]; got ",
              o.dim());
  LMLAB_CHECK(std::isfinite(o.scale()) && o.scale() > 0, UsageError, "softmax data: scale must be finite and > 0; got ",
              o.scale());
  LMLAB_CHECK(std::isfinite(o.noise()) && o.noise() >= 0, UsageError,
              "softmax data: noise must be finite and >= 0; got ", o.noise());
}

SoftmaxRegressionData make_softmax_data(const SoftmaxDataOptions& o, uint64_t seed) {
  check_softmax_data_options(o);
  torch::Generator g = make_generator(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  const auto x_star = torch::randn({o.dim()}, g, f64);
  SoftmaxRegressionData d;
  d.a = torch::randn({o.tasks(), o.rows(), o.dim()}, g, f64) * (o.scale() / std::sqrt(static_cast<double>(o.dim())));
  const auto noise = torch::randn({o.tasks(), o.rows()}, g, f64) * o.noise();
  d.b = torch::softmax(torch::matmul(d.a, x_star) + noise, -1);
  d.copyrighted = torch::arange(o.tasks()) < o.copyrighted();
  return d;
}

}  // namespace lmlab::copyright
