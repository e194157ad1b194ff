// 1-bit, ternary and 8-bit activation quantizers (include/lmlab/onebit/quantize.h).
#include "lmlab/onebit/quantize.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "lmlab/core/error.h"

namespace lmlab::onebit {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// y = q(x) forward, dL/dx = dL/dy backward (straight-through). q runs without autograd.
struct StraightThrough : torch::autograd::Function<StraightThrough> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x,
                               const std::function<torch::Tensor(const torch::Tensor&)>& q) {
    return q(x);
  }
  static variable_list backward(AutogradContext*, variable_list grad) { return {grad[0], torch::Tensor()}; }
};

// sign with sign(0) = +1, as the packed binary format stores it.
torch::Tensor sign_no_zero(const torch::Tensor& x) { return torch::where(x >= 0, 1.0, -1.0).to(x.dtype()); }

// The per-token step g / 127 (last dimension kept) and the codes clip(round(x / step), -127, 127).
torch::Tensor int8_step(const torch::Tensor& x) { return x.abs().amax(-1, /*keepdim=*/true).clamp_min(kQuantEps) / 127.0; }
torch::Tensor int8_round(const torch::Tensor& x, const torch::Tensor& step) {
  return torch::clamp(torch::round(x / step), -127, 127);
}

void check_weight(const torch::Tensor& w) {
  LMLAB_CHECK(w.defined() && w.dim() == 2, UsageError, "a quantized weight must be a 2-D [out, in] tensor, got ",
              w.defined() ? w.sizes() : torch::IntArrayRef{});
  LMLAB_CHECK(w.is_floating_point(), UsageError, "a quantized weight must be floating point, got ", w.dtype());
}

}  // namespace

WeightQuant weight_quant_from_name(const std::string& name) {
  if (name == "binary") return WeightQuant::Binary;
  if (name == "ternary") return WeightQuant::Ternary;
  throw UsageError("unknown weight quantization '" + name + "'; use binary or ternary");
}

const char* weight_quant_name(WeightQuant quant) { return quant == WeightQuant::Binary ? "binary" : "ternary"; }

WeightPattern weight_pattern(const torch::Tensor& weight, const WeightQuantOptions& options) {
  check_weight(weight);
  torch::NoGradGuard no_grad;
  const torch::Tensor w = weight.detach();
  if (options.quant() == WeightQuant::Binary) {
    const torch::Tensor centred = options.centered() ? w - w.mean() : w;
    return {sign_no_zero(centred), options.scaled() ? w.abs().mean().item<double>() : 1.0};
  }
  const double gamma = w.abs().mean().item<double>() + kQuantEps;
  return {torch::clamp(torch::round(w / gamma), -1, 1), options.scaled() ? gamma : 1.0};
}

torch::Tensor quantize_weight(const torch::Tensor& weight, const WeightQuantOptions& options) {
  check_weight(weight);
  return StraightThrough::apply(weight, [&options](const torch::Tensor& w) {
    const WeightPattern p = weight_pattern(w, options);
    return p.pattern * p.scale;
  });
}

Int8Activations int8_activation_codes(const torch::Tensor& x) {
  LMLAB_CHECK(x.dim() == 2 && x.scalar_type() == torch::kFloat, UsageError,
              "int8 activation codes need a float32 [M, in] tensor, got ", x.sizes(), " ", x.dtype());
  // One pass per row instead of int8_step and int8_round's eight tensor ops (this sits on the
  // packed GEMV's critical path); the same float operations in the same order, so the same codes
  // (tests/onebit/bit_linear_test.cpp compares them with quantize_activations_int8).
  const torch::Tensor in = x.detach().contiguous();
  const int64_t rows = in.size(0), cols = in.size(1);
  Int8Activations a{torch::empty({rows, cols}, torch::kInt8), torch::empty({rows}, torch::kFloat)};
  const float* xs = in.data_ptr<float>();
  int8_t* codes = a.codes.data_ptr<int8_t>();
  float* steps = a.scale.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = xs + r * cols;
    float absmax = 0.0f;
    for (int64_t k = 0; k < cols; ++k) absmax = std::max(absmax, std::fabs(row[k]));
    const float step = std::max(absmax, static_cast<float>(kQuantEps)) / 127.0f;
    steps[r] = step;
    for (int64_t k = 0; k < cols; ++k)
      codes[r * cols + k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] / step), -127.0f, 127.0f));
  }
  return a;
}

torch::Tensor quantize_activations_int8(const torch::Tensor& x) {
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) >= 1 && x.is_floating_point(), UsageError,
              "int8 activation quantization needs a floating-point tensor with a non-empty last dimension (the "
              "token's features), got ", x.sizes(), " ", x.dtype());
  return StraightThrough::apply(x, [](const torch::Tensor& v) {
    const torch::Tensor step = int8_step(v);
    return int8_round(v, step) * step;
  });
}

}  // namespace lmlab::onebit
