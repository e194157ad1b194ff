// BitLinear: a linear layer trained with 1-bit or ternary weights (P1, arXiv 2411.01663; the
// BitNet layer of arXiv 2310.11453 and its b1.58 variant, arXiv 2402.17764).
//
//   x [..., in] -> y [..., out]:   x' = LN(x) if input_norm,  x'' = Q8(x') if act_bits == 8,
//                                  y = x'' Q(W)^T + b
// W [out, in] holds full-precision latent weights trained through the straight-through estimator
// (lmlab/onebit/quantize.h); Q(W) is what inference uses (onebit::pack). LN is a LayerNorm
// without affine parameters (BitNet's norm before quantization). Parameters: "weight" and
// "bias", the same names and initialisation as torch::nn::Linear, so a BitLinear and a Linear
// built from the same seed start from the same latent weights: the full-precision twin.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

#include "lmlab/models/linear.h"
#include "lmlab/onebit/quantize.h"

namespace lmlab::onebit {

class PackedLinearImpl;  // lmlab/onebit/packed_linear.h

struct BitLinearOptions {
  BitLinearOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(WeightQuantOptions, weights) = {};
  TORCH_ARG(int, act_bits) = 0;         // 0: full-precision activations; 8: per-token absmax int8
  TORCH_ARG(bool, input_norm) = false;  // LayerNorm (no affine) before the activation quantizer
};

class BitLinearImpl : public torch::nn::Module {
 public:
  explicit BitLinearImpl(const BitLinearOptions& options);

  torch::Tensor forward(const torch::Tensor& x);

  // Q(W) as the forward uses it (with the straight-through gradient).
  torch::Tensor quantized_weight() const;

  const BitLinearOptions& options() const { return options_; }
  torch::Tensor weight, bias;  // bias undefined when options.bias() is false

  // Packed inference (pack_model in lmlab/onebit/packed_linear.h): while set, forward runs
  // `packed` instead of the fp32 product; nullptr returns to training mode.
  void set_packed(std::shared_ptr<PackedLinearImpl> packed);
  bool is_packed() const { return packed_ != nullptr; }

 private:
  BitLinearOptions options_;
  std::shared_ptr<PackedLinearImpl> packed_;
};
TORCH_MODULE(BitLinear);

// BitLinear's forward as a function of its parameters (bias may be undefined): what BitLinearImpl
// runs, and what the Python module's BitLinear calls. `options` supplies quantization, act_bits
// and input_norm; in and out are read from weight [out, in] (UsageError if x does not match).
torch::Tensor bit_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const BitLinearOptions& options);

// A LinearFactory making BitLinear layers with `like`'s quantization settings (its in/out/bias are
// replaced per layer). Plug it into MLPOptions, GPTOptions or ViTOptions to turn every linear map
// into a 1-bit one; embeddings, norms and a tied head stay full precision, as in BitNet.
LinearFactory bit_linear_factory(const BitLinearOptions& like);

}  // namespace lmlab::onebit
