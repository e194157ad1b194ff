// Gaussian gradient noise, the defense P6 (arXiv 2311.13624) re-evaluates against gradient
// leakage: the gradient a client shares is g + N(0, s^2 I), each entry of every tensor with its
// own independent draw. DP-SGD (dp_sgd.h) adds the same noise with s = sigma C to its clipped sum.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace lmlab::privacy {

struct GradientNoiseOptions {
  explicit GradientNoiseOptions(double std = 0.0) : std_(std) {}
  // UsageError when s is negative or not finite.
  void validate() const;
  TORCH_ARG(double, std);           // s >= 0; 0 shares the gradient unchanged
  TORCH_ARG(uint64_t, seed) = 0;    // the noise stream
};

class GaussianGradientNoise {
 public:
  explicit GaussianGradientNoise(GradientNoiseOptions options);
  // g + N(0, s^2 I) per tensor, same shapes and dtypes; undefined tensors stay undefined.
  std::vector<torch::Tensor> apply(const std::vector<torch::Tensor>& grads);
  // In place on the .grad of every parameter of `module` that has one.
  void apply_to(torch::nn::Module& module);
  const GradientNoiseOptions& options() const { return options_; }

 private:
  GradientNoiseOptions options_;
  torch::Generator generator_;
};

// g + N(0, std^2 I), drawn from `generator`.
torch::Tensor add_gaussian_noise(const torch::Tensor& g, double std, torch::Generator& generator);

}  // namespace lmlab::privacy
