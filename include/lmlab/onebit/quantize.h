// 1-bit and ternary quantizers with straight-through gradients (P1, arXiv 2411.01663; BitNet,
// arXiv 2310.11453; BitNet b1.58, arXiv 2402.17764).
//
// Weights W [out, in], full-precision latent values:
//   binary:   Q(W) = beta * sign(W - c),  c = mean(W) when centred else 0,  sign(0) = +1,
//             beta = mean|W| when scaled else 1                      (entries in {-beta, +beta})
//   ternary:  gamma = mean|W| + eps,  Q(W) = s * clip(round(W / gamma), -1, 1),
//             s = gamma when scaled else 1                            (entries in {-s, 0, +s})
// Activations x [..., in], per token (last dimension), absmax to 8 bits:
//   g = max(max_k |x_k|, eps),  Q(x) = clip(round(127 x / g), -127, 127) * g / 127
// Every quantizer is a torch::autograd::Function whose backward is the identity (the
// straight-through estimator of Bengio et al. 2013): dL/dW := dL/dQ(W). The backward is itself
// differentiable, so models stay twice differentiable.
#pragma once

#include <string>

#include <torch/torch.h>

namespace lmlab::onebit {

enum class WeightQuant { Binary, Ternary };

// "binary" | "ternary" (UsageError listing both otherwise), and back.
WeightQuant weight_quant_from_name(const std::string& name);
const char* weight_quant_name(WeightQuant quant);

struct WeightQuantOptions {
  TORCH_ARG(WeightQuant, quant) = WeightQuant::Binary;
  TORCH_ARG(bool, centered) = false;  // binary only: subtract mean(W) before sign (BitNet)
  TORCH_ARG(bool, scaled) = true;     // multiply by beta (binary) or gamma (ternary)
};

// Absmean epsilon of the ternary quantizer and absmax floor of the activation quantizer.
constexpr double kQuantEps = 1e-5;

// Q(W) with the straight-through gradient; same shape and dtype as W.
torch::Tensor quantize_weight(const torch::Tensor& weight, const WeightQuantOptions& options);

// The scale s of Q(W) = s * T (beta, gamma, or 1 when unscaled) and the integer pattern T in
// {-1, +1} (binary) or {-1, 0, +1} (ternary), without gradients: what packing stores.
struct WeightPattern {
  torch::Tensor pattern;  // [out, in], values -1, 0, +1 as float
  double scale = 1.0;
};
WeightPattern weight_pattern(const torch::Tensor& weight, const WeightQuantOptions& options);

// Per-token 8-bit absmax Q(x) with the straight-through gradient; same shape as x.
torch::Tensor quantize_activations_int8(const torch::Tensor& x);

// The integer codes and per-token scales of Q(x) without gradients: x float32 [M, in] ->
// codes int8 [M, in] and g/127 as float [M], so that Q(x) = codes * scale[:, None].
struct Int8Activations {
  torch::Tensor codes;
  torch::Tensor scale;
};
Int8Activations int8_activation_codes(const torch::Tensor& x);

}  // namespace lmlab::onebit
