// LoRA linear layer (include/lmlab/ntk_attention/lora.h).
#include "lmlab/ntk_attention/lora.h"

#include <algorithm>
#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab::ntk_attention {

LoraLinearImpl::LoraLinearImpl(int64_t in, int64_t out, bool bias, const LoraOptions& options) {
  LMLAB_CHECK(in >= 1 && out >= 1, UsageError, "LoraLinear needs in, out >= 1; got ", in, " -> ", out);
  LMLAB_CHECK(options.rank() >= 1 && options.rank() <= std::min(in, out), UsageError,
              "LoraOptions::rank must be in [1, min(in, out)] = [1, ", std::min(in, out), "]; got ",
              options.rank());
  LMLAB_CHECK(options.alpha() > 0 && std::isfinite(options.alpha()), UsageError,
              "LoraOptions::alpha must be finite and > 0; got ", options.alpha());
  check_model_memory("LoraLinear", double(in) * double(out) + double(out) + double(options.rank()) * (double(in) + double(out)),
                     "lower in, out or the rank");
  scaling_ = options.alpha() / static_cast<double>(options.rank());
  // W, b as torch::nn::Linear initialises them; A as PEFT (kaiming_uniform_, a = sqrt(5)); B = 0.
  torch::nn::Linear base(torch::nn::LinearOptions(in, out).bias(bias));
  weight_ = register_parameter("weight", base->weight.detach().clone());
  if (bias) bias_ = register_parameter("bias", base->bias.detach().clone());
  a_ = register_parameter("lora_A", torch::empty({options.rank(), in}));
  torch::nn::init::kaiming_uniform_(a_, std::sqrt(5.0));
  b_ = register_parameter("lora_B", torch::zeros({out, options.rank()}));
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  const int64_t in = weight_.size(1), out = weight_.size(0);
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) == in, UsageError, "LoraLinear(", in, " -> ", out, ") got input of shape ",
              x.sizes(), "; the last dimension must be ", in);
  LMLAB_CHECK(x.scalar_type() == weight_.scalar_type(), UsageError, "LoraLinear(", in, " -> ", out, ") holds ",
              weight_.scalar_type(), " weights and got a ", x.scalar_type(), " input: convert it with .to(",
              weight_.scalar_type(), ")");
  auto y = torch::nn::functional::linear(x, weight_, bias_);
  return y + torch::matmul(scaling_ * torch::matmul(x, a_.t()), b_.t());  // scaled at rank r, the small side
}

LinearFactory lora_linear_factory(const LoraOptions& options) {
  const LinearFactory plain = default_linear_factory();
  return [options, plain](int64_t in, int64_t out, bool bias, LinearRole role) {
    const auto& roles = options.roles();
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) return plain(in, out, bias, role);
    return torch::nn::AnyModule(LoraLinear(in, out, bias, options));
  };
}

}  // namespace lmlab::ntk_attention
