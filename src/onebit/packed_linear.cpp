// PackedLinear, pack and pack_model (include/lmlab/onebit/packed_linear.h).
#include "lmlab/onebit/packed_linear.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "lmlab/core/error.h"
#include "lmlab/kernels/flash_attention.h"
#include "lmlab/kernels/onebit.h"
#include "lmlab/models/weights.h"

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

PackedLinearImpl::PackedLinearImpl(const BitLinearOptions& options, bool) : options_(options) {
  const int64_t planes = options.weights().quant() == WeightQuant::Binary ? 1 : 2;
  scale_ = register_buffer("scale", torch::ones({}, torch::kDouble));
  words_ = register_buffer("words", torch::zeros({options.out(), planes * kernels::packed_words_per_row(options.in())},
                                                 torch::kInt64));
  if (options.bias()) bias_ = register_buffer("bias", torch::zeros({options.out()}, torch::kFloat));
}

PackedLinearImpl::PackedLinearImpl(const BitLinearImpl& layer) : options_(layer.options()) {
  check_finite(layer.weight, "weight", options_);
  const WeightPattern p = weight_pattern(layer.weight, options_.weights());
  scale_ = register_buffer("scale", torch::tensor(p.scale, torch::kDouble));
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

std::shared_ptr<const kernels::LutWeights> PackedLinearImpl::lut_weights() {
  const std::lock_guard<std::mutex> lock(lut_mutex_);
  const std::pair<const void*, int64_t> now{words_.data_ptr(), words_._version()};
  if (lut_of_ != now) {
    const int64_t out = options_.out(), in = options_.in();
    lut_ = std::make_shared<const kernels::LutWeights>(
        options_.weights().quant() == WeightQuant::Binary ? kernels::lut_layout(binary_view(words_, out, in))
                                                          : kernels::lut_layout(ternary_view(words_, out, in)));
    lut_of_ = now;
  }
  return lut_;
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
  LMLAB_CHECK(kernels::flash_attention_kernels().all_finite(h.data_ptr<float>(), h.numel()), UsageError,
              "PackedLinear(", in, " -> ", out,
              ") got NaN or Inf in its input of shape ", x.sizes(), "; check the layer before it");
  const int64_t rows = h.size(0);
  const kernels::OneBitKernels& k = kernels::onebit_kernels();
  const bool binary = options_.weights().quant() == WeightQuant::Binary;
  const int64_t row_bytes = words_.size(1) * 8;
  const double scale = scale_.item<double>();

  torch::Tensor y;
  if (options_.act_bits() == 8) {
    const Int8Activations a = int8_activation_codes(h);
    const kernels::OneBitLutKernels& lut = kernels::onebit_lut_kernels();
    torch::Tensor tables = torch::empty({rows, kernels::lut_pairs(in) * 64}, torch::kInt8);
    torch::Tensor sums = torch::empty({rows}, torch::kInt);
    lut.tables_i8(a.codes.data_ptr<int8_t>(), rows, in, tables.data_ptr<int8_t>(), sums.data_ptr<int32_t>());
    const std::shared_ptr<const kernels::LutWeights> layout = lut_weights();  // alive until the products end
    const kernels::LutView w = layout->view();
    const kernels::LutTables t{tables.data_ptr<int8_t>(), sums.data_ptr<int32_t>(), rows};
    torch::Tensor acc = torch::empty({rows, out}, torch::kInt);
    int32_t* acc_ptr = acc.data_ptr<int32_t>();
    for_row_chunks(kernels::lut_blocks(out), row_bytes * kernels::kLutBlockRows,
                   [&](int64_t begin, int64_t end) { lut.gemm_i8(w, t, acc_ptr, begin, end); });
    // y = float(acc) * (step_r * scale) + bias in one pass: the float operations of
    // acc.to(float) * (a.scale[:, None] * scale) + bias, in their order, without their passes.
    y = torch::empty({rows, out}, torch::kFloat);
    float* ys = y.data_ptr<float>();
    const float* steps = a.scale.data_ptr<float>();
    const float* b = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
    for (int64_t r = 0; r < rows; ++r) {
      const float row_scale = steps[r] * static_cast<float>(scale);
      const int32_t* in_row = acc_ptr + r * out;
      float* out_row = ys + r * out;
      for (int64_t j = 0; j < out; ++j) out_row[j] = static_cast<float>(in_row[j]) * row_scale;
      if (b)
        for (int64_t j = 0; j < out; ++j) out_row[j] += b[j];
    }
  } else {
    y = torch::empty({rows, out}, torch::kFloat);
    const float* xs = h.data_ptr<float>();
    float* ys = y.data_ptr<float>();
    for_row_chunks(out, row_bytes, [&](int64_t begin, int64_t end) {
      if (binary) k.binary_gemm_f32(binary_view(words_, out, in), xs, rows, ys, begin, end);
      else k.ternary_gemm_f32(ternary_view(words_, out, in), xs, rows, ys, begin, end);
    });
    y.mul_(scale);
    if (bias_.defined()) y.add_(bias_);
  }
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

namespace {
constexpr const char* kPackedKind = "onebit.packed_linear v1 ";
// The largest layer load_packed rebuilds: 2^30 weights (128 MiB binary, 256 MiB ternary packed).
constexpr int64_t kMaxPackedWeights = int64_t{1} << 30;

std::string packed_kind(const BitLinearOptions& o) {
  return detail::concat(kPackedKind, "in=", o.in(), " out=", o.out(),
                        " ternary=", int(o.weights().quant() == WeightQuant::Ternary),
                        " centered=", int(o.weights().centered()), " scaled=", int(o.weights().scaled()),
                        " bias=", int(o.bias()), " act_bits=", o.act_bits(), " input_norm=", int(o.input_norm()));
}

// The options a packed kind describes; DataError for anything a PackedLinear cannot be.
BitLinearOptions packed_options(const std::string& kind, const std::string& path) {
  auto f = kind_fields(kind, kPackedKind, {"in", "out", "ternary", "centered", "scaled", "bias", "act_bits", "input_norm"},
                       path, "a packed 1-bit layer");
  for (const char* flag : {"ternary", "centered", "scaled", "bias", "input_norm"})
    LMLAB_CHECK(f[flag] == 0 || f[flag] == 1, DataError, "'", path, "': ", flag, "=", f[flag],
                " in the layer description '", kind, "' should be 0 or 1");
  LMLAB_CHECK(f["in"] >= 1 && f["out"] >= 1 && f["in"] <= kMaxPackedWeights / f["out"], DataError, "'", path,
              "': the layer description '", kind, "' needs in, out >= 1 and at most ", kMaxPackedWeights, " weights");
  LMLAB_CHECK(f["act_bits"] == 0 || f["act_bits"] == 8, DataError, "'", path, "': act_bits=", f["act_bits"],
              " in the layer description '", kind, "' should be 0 or 8");
  return BitLinearOptions(f["in"], f["out"])
      .bias(f["bias"] == 1)
      .act_bits(static_cast<int>(f["act_bits"]))
      .input_norm(f["input_norm"] == 1)
      .weights(WeightQuantOptions()
                   .quant(f["ternary"] == 1 ? WeightQuant::Ternary : WeightQuant::Binary)
                   .centered(f["centered"] == 1)
                   .scaled(f["scaled"] == 1));
}
}  // namespace

void save_packed(const PackedLinearImpl& layer, const std::string& path) {
  save_weights(layer, path, packed_kind(layer.options()));
}

PackedLinear load_packed(const std::string& path) {
  const std::string kind = stored_weights_kind(path);
  const BitLinearOptions o = packed_options(kind, path);
  PackedLinear layer(std::shared_ptr<PackedLinearImpl>(new PackedLinearImpl(o, true)));
  load_weights(*layer, path, kind);
  const double scale = layer->weight_scale();
  LMLAB_CHECK(std::isfinite(scale) && scale >= 0, DataError, "packed layer file '", path, "': the weight scale is ",
              scale, " but should be finite and >= 0; the file is corrupt");
  LMLAB_CHECK(!layer->bias_.defined() || torch::isfinite(layer->bias_).all().item<bool>(), DataError,
              "packed layer file '", path, "': the bias holds NaN or Inf; the file is corrupt");
  if (o.weights().quant() == WeightQuant::Ternary) {
    // Padding bits are ignored by the kernels; a weight set in both planes is not.
    const int64_t words = kernels::packed_words_per_row(o.in()), tail = o.in() % kernels::kWordBits;
    const auto* w = reinterpret_cast<const uint64_t*>(layer->words_.data_ptr<int64_t>());
    for (int64_t r = 0; r < o.out(); ++r) {
      for (int64_t j = 0; j < words; ++j) {
        const uint64_t used = j + 1 == words && tail != 0 ? (uint64_t{1} << tail) - 1 : ~uint64_t{0};
        const uint64_t both = w[(r * words + j) * 2] & w[(r * words + j) * 2 + 1] & used;
        LMLAB_CHECK(both == 0, DataError, "packed layer file '", path, "': ternary weight [", r, ", ",
                    j * kernels::kWordBits + __builtin_ctzll(both | (uint64_t{1} << 63)),
                    "] is set in both the +1 and the -1 plane; the file is corrupt");
      }
    }
  }
  return layer;
}

}  // namespace lmlab::onebit
