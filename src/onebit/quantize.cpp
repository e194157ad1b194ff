// 1-bit, ternary and 8-bit activation quantizers (include/lmlab/onebit/quantize.h).
#include "lmlab/onebit/quantize.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <ATen/Parallel.h>

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

// Per row of `cols` entries: the step g / 127 = max(max_k |x_k|, eps) / 127 and the codes
// clip(round(x_k / step), -127, 127), in T's arithmetic: the header's formula as one pass per row
// instead of eight tensor operations; emit(row, step, code) receives code(k) for the row's entries.
// A NaN entry makes its row's step NaN, as amax would. Rounding to nearest even adds and subtracts
// 1.5 * 2^(mantissa bits) after the clip (the same value as clipping after rounding, since the
// bounds are integers), which vectorizes where std::nearbyint is a library call. Rows are shared
// out over LibTorch's threads.
template <typename T, typename Emit>
void int8_rows(const T* x, int64_t rows, int64_t cols, const Emit& emit) {
  constexpr T kRound = T(1.5) * T(int64_t{1} << (std::numeric_limits<T>::digits - 1));
  at::parallel_for(0, rows, std::max<int64_t>(1, 16384 / cols), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T* row = x + r * cols;
      T absmax = 0;
      bool nan = false;
      for (int64_t k = 0; k < cols; ++k) {
        const T a = std::fabs(row[k]);
        absmax = a > absmax ? a : absmax;
        nan |= a != a;
      }
      const T step = (nan ? std::numeric_limits<T>::quiet_NaN() : std::max(absmax, static_cast<T>(kQuantEps))) / T(127);
      emit(r, step, [row, step](int64_t k) {
        const T v = row[k] / step;
        return (std::clamp(v, T(-127), T(127)) + kRound) - kRound;
      });
    }
  });
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
  const torch::Tensor in = x.detach().contiguous();
  const int64_t rows = in.size(0), cols = in.size(1);
  Int8Activations a{torch::empty({rows, cols}, torch::kInt8), torch::empty({rows}, torch::kFloat)};
  int8_t* codes = a.codes.data_ptr<int8_t>();
  float* steps = a.scale.data_ptr<float>();
  int8_rows(in.data_ptr<float>(), rows, cols, [&](int64_t r, float step, const auto& code) {
    steps[r] = step;
    for (int64_t k = 0; k < cols; ++k) codes[r * cols + k] = static_cast<int8_t>(code(k));
  });
  return a;
}

torch::Tensor quantize_activations_int8(const torch::Tensor& x) {
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) >= 1 && x.is_floating_point(), UsageError,
              "int8 activation quantization needs a floating-point tensor with a non-empty last dimension (the "
              "token's features), got ", x.sizes(), " ", x.dtype());
  return StraightThrough::apply(x, [](const torch::Tensor& v) {
    // float and double in their own arithmetic; half and bfloat16 through float.
    const bool native = v.scalar_type() == torch::kFloat || v.scalar_type() == torch::kDouble;
    const torch::Tensor in = (native ? v : v.to(torch::kFloat)).contiguous();
    torch::Tensor out = torch::empty_like(in);
    const int64_t cols = in.size(-1), rows = in.numel() / cols;
    AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "quantize_activations_int8", [&] {
      scalar_t* o = out.data_ptr<scalar_t>();
      int8_rows(in.data_ptr<scalar_t>(), rows, cols, [&](int64_t r, scalar_t step, const auto& code) {
        for (int64_t k = 0; k < cols; ++k) o[r * cols + k] = code(k) * step;
      });
    });
    return native ? out : out.to(v.scalar_type());
  });
}

}  // namespace lmlab::onebit
