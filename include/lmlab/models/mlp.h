// Multi-layer perceptron x [..., in] -> [..., out]: linear layers from a LinearFactory with an
// activation between consecutive layers (none after the last).
//   h_0 = x,  h_{i+1} = act(W_i h_i + b_i),  out = W_L h_L + b_L
// Used on its own (P1's two-layer nets, P9's read-in/out) and as the feed-forward part of
// TransformerBlock (C -> mlp_ratio*C -> C with GELU).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/models/linear.h"

namespace lmlab {

enum class Activation { ReLU, GELU, Tanh };  // GELU is the exact erf form

// "relu" | "gelu" | "tanh" (UsageError listing the valid names otherwise).
Activation activation_from_name(const std::string& name);
torch::Tensor apply_activation(Activation activation, const torch::Tensor& x);

struct MLPOptions {
  MLPOptions(int64_t in, std::vector<int64_t> hidden, int64_t out)
      : in_(in), hidden_(std::move(hidden)), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(std::vector<int64_t>, hidden);  // widths of the hidden layers; may be empty
  TORCH_ARG(int64_t, out);
  TORCH_ARG(Activation, activation) = Activation::ReLU;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(LinearFactory, linear) = default_linear_factory();
};

// Submodules fc0 .. fcL (L = hidden.size()).
class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const MLPOptions& options);

  torch::Tensor forward(const torch::Tensor& x);

  // Hidden layers ~ N(0, std^2), the last ~ N(0, out_std^2), biases 0 (see init_linear_gpt2).
  void init_gpt2(double std, double out_std);

  const MLPOptions& options() const { return options_; }

 private:
  MLPOptions options_;
  std::vector<torch::nn::AnyModule> layers_;
};
TORCH_MODULE(MLP);

}  // namespace lmlab
