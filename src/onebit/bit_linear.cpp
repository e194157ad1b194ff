// BitLinear (include/lmlab/onebit/bit_linear.h).
#include "lmlab/onebit/bit_linear.h"

#include "lmlab/core/error.h"
#include "lmlab/onebit/packed_linear.h"

namespace lmlab::onebit {
namespace {

void check_act_bits(int act_bits) {
  LMLAB_CHECK(act_bits == 0 || act_bits == 8, UsageError,
              "BitLinear act_bits must be 0 (full precision) or 8 (int8 absmax), got ", act_bits);
}

}  // namespace

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  LMLAB_CHECK(options.in() >= 1 && options.out() >= 1, UsageError, "BitLinear needs in, out >= 1, got ",
              options.in(), " -> ", options.out());
  check_act_bits(options.act_bits());
  // torch::nn::Linear's initialisation, drawn in the same order, so the twins share latent weights.
  const torch::nn::Linear init(torch::nn::LinearOptions(options.in(), options.out()).bias(options.bias()));
  weight = register_parameter("weight", init->weight.detach().clone());
  if (options.bias()) bias = register_parameter("bias", init->bias.detach().clone());
}

torch::Tensor BitLinearImpl::quantized_weight() const { return quantize_weight(weight, options_.weights()); }

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) {
  if (packed_) return packed_->forward(x);
  return bit_linear(x, weight, bias, options_);
}

torch::Tensor bit_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const BitLinearOptions& options) {
  LMLAB_CHECK(weight.dim() == 2, UsageError, "BitLinear needs a 2-D [out, in] weight, got ", weight.sizes());
  const int64_t in = weight.size(1), out = weight.size(0);
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) == in, UsageError, "BitLinear(", in, " -> ", out,
              ") got input of shape ", x.sizes(), "; the last dimension must be ", in);
  LMLAB_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out), UsageError, "BitLinear(", in, " -> ",
              out, ") needs a bias of shape [", out, "], got ", bias.sizes());
  LMLAB_CHECK(in >= 1 && out >= 1, UsageError, "BitLinear needs in, out >= 1, got a weight of shape ", weight.sizes());
  LMLAB_CHECK(weight.is_floating_point() && x.scalar_type() == weight.scalar_type() &&
                  (!bias.defined() || bias.scalar_type() == weight.scalar_type()),
              UsageError, "BitLinear needs the input, weight and bias in one floating-point dtype, got ", x.dtype(),
              ", ", weight.dtype(), " and ", bias.defined() ? bias.dtype() : weight.dtype(),
              ": convert them with .to(weight.dtype())");
  check_act_bits(options.act_bits());
  torch::Tensor h = x;
  if (options.input_norm()) h = torch::layer_norm(h, {in});
  if (options.act_bits() == 8) h = quantize_activations_int8(h);
  return torch::nn::functional::linear(h, quantize_weight(weight, options.weights()), bias);
}

void BitLinearImpl::set_packed(std::shared_ptr<PackedLinearImpl> packed) { packed_ = std::move(packed); }

LinearFactory bit_linear_factory(const BitLinearOptions& like) {
  return [like](int64_t in, int64_t out, bool bias, LinearRole) {
    BitLinearOptions options = like;
    return torch::nn::AnyModule(BitLinear(options.in(in).out(out).bias(bias)));
  };
}

}  // namespace lmlab::onebit
