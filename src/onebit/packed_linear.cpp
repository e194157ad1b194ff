// PackedLinear, pack and pack_model (include/lmlab/onebit/packed_linear.h).
#include "lmlab/onebit/packed_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "lmlab/core/error.h"
#include "lmlab/kernels/onebit.h"

namespace lmlab::onebit {
namespace {

// UsageError naming the first NaN/Inf entry of `t` (a weight [out, in] or a bias [out]).
void check_finite(const torch::Tensor& t, const char* what, const BitLinearOptions& o) {
  const torch::Tensor flat = t.detach().flatten();
  const torch::Tensor bad = torch::nonzero(~torch::isfinite(flat));
  if (bad.size(0) == 0) return;
  const int64_t first = bad[0][0].item<int64_t>();
  const std::string where = t.dim() == 2 ? detail::concat(first / t.size(1), ", ", first % t.size(1))
                                         : std::to_string(first);
  throw UsageError(detail::concat(
      "onebit::pack: the ", what, " of BitLinear(", o.in(), " -> ", o.out(), ") holds ", bad.size(0),
      " non-finite entries, the first at [", where, "] = ", flat[first].item<double>(),
      "; training diverged: lower the learning rate or restore an earlier checkpoint before packing"));
}

kernels::BinaryView binary_view(const torch::Tensor& words, int64_t out, int64_t in) {
  return {reinterpret_cast<const uint64_t*>(words.data_ptr<int64_t>()), out, in,
          kernels::packed_words_per_row(in)};
}
kernels::TernaryView ternary_view(const torch::Tensor& words, int64_t out, int64_t in) {
  return {reinterpret_cast<const uint64_t*>(words.data_ptr<int64_t>()), out, in,
          kernels::packed_words_per_row(in)};
}

// An int64 [rows, words / rows] tensor holding `words`, bit for bit.
torch::Tensor words_tensor(const std::vector<uint64_t>& words, int64_t rows) {
  torch::Tensor t = torch::empty({rows, static_cast<int64_t>(words.size()) / rows}, torch::kInt64);
  std::memcpy(t.data_ptr<int64_t>(), words.data(), words.size() * sizeof(uint64_t));
  return t;
}

// Calls kernel(row_begin, row_end) over [0, rows) on LibTorch's intra-op threads, in chunks of at
// least 64 KiB of packed weights so that small layers stay on one thread.
template <typename Kernel>
void for_row_chunks(int64_t rows, int64_t row_bytes, const Kernel& kernel) {
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(row_bytes, 1));
  at::parallel_for(0, rows, grain, kernel);
}

}  // namespace

PackedLinearImpl::PackedLinearImpl(const BitLinearImpl& layer) : options_(layer.options()) {
  check_finite(layer.weight, "weight", options_);
  const WeightPattern p = weight_pattern(layer.weight, options_.weights());
  scale_ = p.scale;
  const torch::Tensor t = p.pattern.to(torch::kFloat).contiguous();
  const int64_t out = options_.out(), in = options_.in();
  words_ = options_.weights().quant() == WeightQuant::Binary
               ? words_tensor(kernels::pack_binary(t.data_ptr<float>(), out, in).words, out)
               : words_tensor(kernels::pack_ternary(t.data_ptr<float>(), out, in).words, out);
  register_buffer("words", words_);
  if (layer.bias.defined()) {
    check_finite(layer.bias, "bias", options_);
    bias_ = register_buffer("bias", layer.bias.detach().to(torch::kFloat).clone());
  }
}

torch::Tensor PackedLinearImpl::pattern() const {
  const int64_t out = options_.out(), in = options_.in();
  const std::vector<float> w = options_.weights().quant() == WeightQuant::Binary
                                   ? kernels::unpack_binary(binary_view(words_, out, in))
                                   : kernels::unpack_ternary(ternary_view(words_, out, in));
  return torch::tensor(w).reshape({out, in});
}

torch::Tensor PackedLinearImpl::forward(const torch::Tensor& x) {
  const int64_t out = options_.out(), in = options_.in();
  LMLAB_CHECK(x.dim() >= 1 && x.size(-1) == in, UsageError, "PackedLinear(", in, " -> ", out,
              ") got input of shape ", x.sizes(), "; the last dimension must be ", in);
  LMLAB_CHECK(x.device().is_cpu() && x.scalar_type() == torch::kFloat, UsageError,
              "PackedLinear computes on the CPU in float32; got ", x.dtype(), " on ", x.device(),
              ": convert with x.to(torch::kCPU, torch::kFloat)");
  LMLAB_CHECK(!x.requires_grad(), UsageError,
              "PackedLinear is inference only and got an input that requires grad: run it under "
              "torch::NoGradGuard, or call onebit::unpack_model before training");
  torch::Tensor h = x.reshape({-1, in}).contiguous();
  if (options_.input_norm()) h = torch::layer_norm(h, {in});
  LMLAB_CHECK(torch::isfinite(h).all().item<bool>(), UsageError, "PackedLinear(", in, " -> ", out,
              ") got NaN or Inf in its input of shape ", x.sizes(), "; check the layer before it");
  const int64_t rows = h.size(0);
  const kernels::OneBitKernels& k = kernels::onebit_kernels();
  const bool binary = options_.weights().quant() == WeightQuant::Binary;
  const int64_t row_bytes = words_.size(1) * 8;

  torch::Tensor y;
  if (options_.act_bits() == 8) {
    const Int8Activations a = int8_activation_codes(h);
    const int8_t* codes = a.codes.data_ptr<int8_t>();
    torch::Tensor acc = torch::empty({rows, out}, torch::kInt);
    int32_t* acc_ptr = acc.data_ptr<int32_t>();
    for_row_chunks(out, row_bytes, [&](int64_t begin, int64_t end) {
      if (binary) k.binary_gemm_i8(binary_view(words_, out, in), codes, rows, acc_ptr, begin, end);
      else k.ternary_gemm_i8(ternary_view(words_, out, in), codes, rows, acc_ptr, begin, end);
    });
    y = acc.to(torch::kFloat).mul_(a.scale.unsqueeze(1) * scale_);
  } else {
    y = torch::empty({rows, out}, torch::kFloat);
    const float* xs = h.data_ptr<float>();
    float* ys = y.data_ptr<float>();
    for_row_chunks(out, row_bytes, [&](int64_t begin, int64_t end) {
      if (binary) k.binary_gemm_f32(binary_view(words_, out, in), xs, rows, ys, begin, end);
      else k.ternary_gemm_f32(ternary_view(words_, out, in), xs, rows, ys, begin, end);
    });
    y.mul_(scale_);
  }
  if (bias_.defined()) y.add_(bias_);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = out;
  return y.reshape(shape);
}

PackedLinear pack(const BitLinearImpl& layer) { return PackedLinear(layer); }

int64_t pack_model(torch::nn::Module& model) {
  int64_t switched = 0;
  model.apply([&switched](torch::nn::Module& m) {
    if (auto* layer = dynamic_cast<BitLinearImpl*>(&m)) {
      layer->set_packed(pack(*layer).ptr());
      ++switched;
    }
  });
  return switched;
}

int64_t unpack_model(torch::nn::Module& model) {
  int64_t switched = 0;
  model.apply([&switched](torch::nn::Module& m) {
    if (auto* layer = dynamic_cast<BitLinearImpl*>(&m); layer && layer->is_packed()) {
      layer->set_packed(nullptr);
      ++switched;
    }
  });
  return switched;
}

}  // namespace lmlab::onebit
