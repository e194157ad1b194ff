// Multi-layer perceptron (include/lmlab/models/mlp.h).
#include "lmlab/models/mlp.h"

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab {

Activation activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::ReLU;
  if (name == "gelu") return Activation::GELU;
  if (name == "tanh") return Activation::Tanh;
  throw UsageError("unknown activation '" + name + "'; valid: relu, gelu, tanh");
}

torch::Tensor apply_activation(Activation activation, const torch::Tensor& x) {
  switch (activation) {
    case Activation::ReLU: return torch::relu(x);
    case Activation::GELU: return torch::gelu(x);
    case Activation::Tanh: return torch::tanh(x);
  }
  LMLAB_ASSERT(false, "unhandled activation ", static_cast<int>(activation));
}

MLPImpl::MLPImpl(const MLPOptions& options) : options_(options) {
  std::vector<int64_t> sizes{options.in()};
  sizes.insert(sizes.end(), options.hidden().begin(), options.hidden().end());
  sizes.push_back(options.out());
  for (size_t i = 0; i < sizes.size(); ++i) {
    LMLAB_CHECK(sizes[i] >= 1, UsageError, "MLP layer widths must be >= 1; got ",
                i == 0 ? "in = " : i + 1 == sizes.size() ? "out = " : "hidden width ", sizes[i],
                " (in, hidden..., out)");
  }
  double parameters = 0;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) parameters += (sizes[i] + 1.0) * static_cast<double>(sizes[i + 1]);
  check_model_memory("MLP", parameters, "lower the hidden widths");
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    layers_.push_back(make_linear(options.linear(), sizes[i], sizes[i + 1], options.bias(),
                                   i + 2 < sizes.size() ? LinearRole::MlpHidden : LinearRole::MlpOut));
    register_module("fc" + std::to_string(i), layers_.back().ptr());
  }
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) == options_.in(), UsageError, "MLP expects inputs [..., ",
              options_.in(), "]; got ", x.sizes());
  torch::Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i].forward(h);
    if (i + 1 < layers_.size()) h = apply_activation(options_.activation(), h);
  }
  return h;
}

void MLPImpl::init_gpt2(double std, double out_std) {
  for (size_t i = 0; i < layers_.size(); ++i)
    init_linear_gpt2(*layers_[i].ptr(), i + 1 < layers_.size() ? std : out_std);
}

}  // namespace lmlab
