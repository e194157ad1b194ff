// The unified direction of P4 (include/lmlab/optim/acceleration.h).
#include "lmlab/optim/acceleration.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::optim {

double global_dot(const TensorList& a, const TensorList& b) {
  LMLAB_CHECK(a.size() == b.size(), UsageError, "global_dot: lists of ", a.size(), " and ", b.size(),
              " tensors; pass one tensor per parameter on both sides");
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    LMLAB_CHECK(a[i].sizes() == b[i].sizes(), UsageError, "global_dot: tensor ", i, " has shapes ", a[i].sizes(),
                " and ", b[i].sizes());
    const auto x = a[i].reshape(-1);
    dot += torch::dot(x, b[i].reshape(-1).to(x.scalar_type())).item<double>();
  }
  return dot;
}

TensorList accelerated_direction(const TensorList& g, const TensorList& v) {
  const double vg = global_dot(v, g), vv = global_dot(v, v);
  LMLAB_CHECK(vv > 0 && std::isfinite(vv), UsageError, "accelerated_direction: v must be finite and non-zero; ||v||^2 = ",
              vv);
  const double c = 2 * std::abs(vg) / vv;
  TensorList d;
  d.reserve(g.size());
  for (size_t i = 0; i < g.size(); ++i) d.push_back(g[i] + (c * v[i]).to(g[i].scalar_type()));
  return d;
}

}  // namespace lmlab::optim
