// BitLinear (include/lmlab/onebit/bit_linear.h).
#include "lmlab/onebit/bit_linear.h"

#include "lmlab/core/error.h"
#include "lmlab/onebit/packed_linear.h"

namespace lmlab::onebit {

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  LMLAB_CHECK(options.in() >= 1 && options.out() >= 1, UsageError, "BitLinear needs in, out >= 1, got ",
              options.in(), " -> ", options.out());
  LMLAB_CHECK(options.act_bits() == 0 || options.act_bits() == 8, UsageError,
              "BitLinear act_bits must be 0 (full precision) or 8 (int8 absmax), got ", options.act_bits());
  // torch::nn::Linear's initialisation, drawn in the same order, so the twins share latent weights.
  const torch::nn::Linear init(torch::nn::LinearOptions(options.in(), options.out()).bias(options.bias()));
  weight = register_parameter("weight", init->weight.detach().clone());
  if (options.bias()) bias = register_parameter("bias", init->bias.detach().clone());
}

torch::Tensor BitLinearImpl::quantized_weight() const { return quantize_weight(weight, options_.weights()); }

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) {
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) == options_.in(), UsageError, "BitLinear(", options_.in(), " -> ",
              options_.out(), ") got input of shape ", x.sizes(), "; the last dimension must be ", options_.in());
  if (packed_) return packed_->forward(x);
  torch::Tensor h = x;
  if (options_.input_norm()) h = torch::layer_norm(h, {options_.in()});
  if (options_.act_bits() == 8) h = quantize_activations_int8(h);
  return torch::nn::functional::linear(h, quantized_weight(), bias);
}

void BitLinearImpl::set_packed(std::shared_ptr<PackedLinearImpl> packed) { packed_ = std::move(packed); }

LinearFactory bit_linear_factory(const BitLinearOptions& like) {
  return [like](int64_t in, int64_t out, bool bias) {
    BitLinearOptions options = like;
    return torch::nn::AnyModule(BitLinear(options.in(in).out(out).bias(bias)));
  };
}

}  // namespace lmlab::onebit
