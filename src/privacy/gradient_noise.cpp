// Gaussian gradient noise (include/lmlab/privacy/gradient_noise.h).
#include "lmlab/privacy/gradient_noise.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab::privacy {

void GradientNoiseOptions::validate() const {
  LMLAB_CHECK(std::isfinite(std_) && std_ >= 0, UsageError, "gradient noise std = ", std_,
              " must be finite and >= 0");
}

torch::Tensor add_gaussian_noise(const torch::Tensor& g, double std, torch::Generator& generator) {
  if (std == 0) return g.clone();
  torch::NoGradGuard no_grad;
  return g + std * torch::randn(g.sizes(), generator, g.options());
}

GaussianGradientNoise::GaussianGradientNoise(GradientNoiseOptions options)
    : options_(std::move(options)), generator_(make_generator(options_.seed())) {
  options_.validate();
}

std::vector<torch::Tensor> GaussianGradientNoise::apply(const std::vector<torch::Tensor>& grads) {
  std::vector<torch::Tensor> out;
  out.reserve(grads.size());
  for (const auto& g : grads) out.push_back(g.defined() ? add_gaussian_noise(g, options_.std(), generator_) : g);
  return out;
}

void GaussianGradientNoise::apply_to(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.grad().defined()) p.mutable_grad().copy_(add_gaussian_noise(p.grad(), options_.std(), generator_));
}

}  // namespace lmlab::privacy
