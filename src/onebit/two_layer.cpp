// The two-layer network of the 1-bit scaling theory (include/lmlab/onebit/two_layer.h).
#include "lmlab/onebit/two_layer.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::onebit {

TwoLayerBias two_layer_bias_from_name(const std::string& name) {
  if (name == "none") return TwoLayerBias::None;
  if (name == "output") return TwoLayerBias::Output;
  LMLAB_CHECK(name == "input", UsageError, "unknown two-layer bias '", name, "'; use none, output or input");
  return TwoLayerBias::Input;
}

double sign_row_mean_activation(int64_t dim) {
  const double d = static_cast<double>(dim);
  return std::sqrt(d) * std::exp(std::lgamma(d / 2) - std::lgamma((d + 1) / 2)) / (2 * std::sqrt(M_PI));
}

TwoLayerNetImpl::TwoLayerNetImpl(const TwoLayerOptions& options) : options_(options) {
  const int64_t m = options.width(), d = options.dim() + (options.bias() == TwoLayerBias::Input ? 1 : 0);
  LMLAB_CHECK(options.dim() >= 1 && m >= 1, UsageError, "the two-layer net needs dim, width >= 1, got ",
              options.dim(), ", ", m);
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
  if (options.bias() == TwoLayerBias::Output) bias = register_parameter("bias", torch::zeros({}));
}

torch::Tensor TwoLayerNetImpl::features(const torch::Tensor& x) const {
  LMLAB_CHECK(x.dim() == 2 && x.size(1) == options_.dim(), UsageError, "the two-layer net takes x [N, ",
              options_.dim(), "], got ", x.sizes());
  if (options_.bias() != TwoLayerBias::Input) return x;
  return torch::cat({x, torch::ones({x.size(0), 1}, x.options())}, 1);
}

torch::Tensor TwoLayerNetImpl::effective_weight() const {
  return options_.quantized() ? quantize_weight(weight, options_.weights()) : weight;
}

torch::Tensor TwoLayerNetImpl::forward(const torch::Tensor& x) {
  const torch::Tensor z = features(x);
  const double d = static_cast<double>(z.size(1)), m = static_cast<double>(options_.width());
  const torch::Tensor hidden = torch::relu(z.matmul(effective_weight().t()) / std::sqrt(d));  // [N, m]
  const torch::Tensor f = hidden.matmul(a.to(hidden.dtype())) * (options_.kappa() / std::sqrt(m));
  return bias.defined() ? f + bias.to(f.dtype()) : f;
}

torch::Tensor TwoLayerNetImpl::ntk_gram(const torch::Tensor& x) const {
  const torch::Tensor z = features(x);
  torch::NoGradGuard no_grad;
  const double d = static_cast<double>(z.size(1)), m = static_cast<double>(options_.width());
  const torch::Tensor active = (z.matmul(effective_weight().t()) > 0).to(z.dtype());  // [N, m]
  return z.matmul(z.t()) * active.matmul(active.t()) * (options_.kappa() * options_.kappa() / (m * d));
}

}  // namespace lmlab::onebit
