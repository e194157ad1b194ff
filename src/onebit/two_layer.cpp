// The two-layer network of the 1-bit scaling theory (include/lmlab/onebit/two_layer.h).
#include "lmlab/onebit/two_layer.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::onebit {

TwoLayerNetImpl::TwoLayerNetImpl(const TwoLayerOptions& options) : options_(options) {
  const int64_t d = options.dim(), m = options.width();
  LMLAB_CHECK(d >= 1 && m >= 1, UsageError, "the two-layer net needs dim, width >= 1, got ", d, ", ", m);
  LMLAB_CHECK(!options.antisymmetric() || m % 2 == 0, UsageError,
              "an antisymmetric two-layer net needs an even width, got ", m, "; use an even width or antisymmetric = false");
  LMLAB_CHECK(std::isfinite(options.kappa()) && options.kappa() > 0, UsageError, "kappa must be positive, got ",
              options.kappa());
  torch::Generator gen = make_generator(derive_seed(options.seed(), "two-layer-init"));
  const int64_t drawn = options.antisymmetric() ? m / 2 : m;
  torch::Tensor w = torch::randn({drawn, d}, gen);
  torch::Tensor signs = torch::randint(0, 2, {drawn}, gen).to(torch::kFloat) * 2 - 1;
  if (options.antisymmetric()) {
    w = torch::cat({w, w});
    signs = torch::cat({signs, -signs});
  }
  weight = register_parameter("weight", w);
  a = register_buffer("a", signs);
}

void TwoLayerNetImpl::check_input(const torch::Tensor& x) const {
  LMLAB_CHECK(x.dim() == 2 && x.size(1) == options_.dim(), UsageError, "the two-layer net takes x [N, ",
              options_.dim(), "], got ", x.sizes());
}

torch::Tensor TwoLayerNetImpl::effective_weight() const {
  return options_.quantized() ? quantize_weight(weight, options_.weights()) : weight;
}

torch::Tensor TwoLayerNetImpl::forward(const torch::Tensor& x) {
  check_input(x);
  const double d = static_cast<double>(options_.dim()), m = static_cast<double>(options_.width());
  const torch::Tensor hidden = torch::relu(x.matmul(effective_weight().t()) / std::sqrt(d));  // [N, m]
  return hidden.matmul(a.to(hidden.dtype())) * (options_.kappa() / std::sqrt(m));
}

torch::Tensor TwoLayerNetImpl::ntk_gram(const torch::Tensor& x) const {
  check_input(x);
  torch::NoGradGuard no_grad;
  const double d = static_cast<double>(options_.dim()), m = static_cast<double>(options_.width());
  const torch::Tensor active = (x.matmul(effective_weight().t()) > 0).to(x.dtype());  // [N, m]
  return x.matmul(x.t()) * active.matmul(active.t()) * (options_.kappa() * options_.kappa() / (m * d));
}

}  // namespace lmlab::onebit
