// The `lmlab._lmlab` extension: lmlab's C++ library for PyTorch users. Tensors cross the boundary
// without copies (the module shares the LibTorch of Debian's python3-torch). Errors map to Python
// exceptions: lmlab::UsageError -> ValueError, lmlab::DataError -> OSError, others -> RuntimeError.
#include <torch/python.h>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/tokenizer.h"
#include "lmlab/kernels/simd.h"
#include "lmlab/models/exact_attention.h"
#include "lmlab/onebit/packed_linear.h"

namespace py = pybind11;

namespace {

// BitLinearOptions from the Python layer's settings (names as in lmlab/onebit.py).
lmlab::onebit::BitLinearOptions bit_linear_options(const torch::Tensor& weight, bool bias, const std::string& quant,
                                                   bool centered, bool scaled, int act_bits, bool input_norm) {
  LMLAB_CHECK(weight.dim() == 2, lmlab::UsageError, "a BitLinear weight is 2-D [out, in], got ", weight.sizes());
  return lmlab::onebit::BitLinearOptions(weight.size(1), weight.size(0))
      .bias(bias)
      .act_bits(act_bits)
      .input_norm(input_norm)
      .weights(lmlab::onebit::WeightQuantOptions()
                   .quant(lmlab::onebit::weight_quant_from_name(quant))
                   .centered(centered)
                   .scaled(scaled));
}

void bind_onebit(py::module_& m) {
  using namespace lmlab::onebit;
  m.def(
      "onebit_quantize_weight",
      [](const torch::Tensor& w, const std::string& quant, bool centered, bool scaled) {
        return quantize_weight(w, WeightQuantOptions().quant(weight_quant_from_name(quant)).centered(centered).scaled(scaled));
      },
      py::arg("weight"), py::arg("quant"), py::arg("centered"), py::arg("scaled"));
  m.def("onebit_quantize_activations_int8", &quantize_activations_int8, py::arg("x"));
  m.def(
      "onebit_bit_linear",
      [](const torch::Tensor& x, const torch::Tensor& w, const c10::optional<torch::Tensor>& b, const std::string& quant,
         bool centered, bool scaled, int act_bits, bool input_norm) {
        return bit_linear(x, w, b.value_or(torch::Tensor()),
                          bit_linear_options(w, b.has_value(), quant, centered, scaled, act_bits, input_norm));
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("quant"), py::arg("centered"), py::arg("scaled"),
      py::arg("act_bits"), py::arg("input_norm"));

  py::class_<PackedLinearImpl, std::shared_ptr<PackedLinearImpl>>(m, "OneBitPackedLinear")
      .def("forward", &PackedLinearImpl::forward, py::arg("x"))
      .def("pattern", &PackedLinearImpl::pattern)
      .def_property_readonly("weight_scale", &PackedLinearImpl::weight_scale)
      .def_property_readonly("packed_weight_bytes", &PackedLinearImpl::packed_weight_bytes);
  m.def(
      "onebit_pack",
      [](const torch::Tensor& w, const c10::optional<torch::Tensor>& b, const std::string& quant, bool centered,
         bool scaled, int act_bits, bool input_norm) {
        BitLinear layer(bit_linear_options(w, b.has_value(), quant, centered, scaled, act_bits, input_norm));
        torch::NoGradGuard no_grad;
        layer->weight.copy_(w);
        if (b) {
          LMLAB_CHECK(b->dim() == 1 && b->size(0) == w.size(0), lmlab::UsageError, "the bias must be [",
                      w.size(0), "], got ", b->sizes());
          layer->bias.copy_(*b);
        }
        return pack(*layer).ptr();
      },
      py::arg("weight"), py::arg("bias"), py::arg("quant"), py::arg("centered"), py::arg("scaled"),
      py::arg("act_bits"), py::arg("input_norm"));
}

void bind_attention(py::module_& m) {
  m.def("attention_flash", &lmlab::flash_attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"));
  m.def("attention_composed", &lmlab::composed_attention, py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("causal"));
  m.def("attention_exact", &lmlab::exact_attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"));
}

}  // namespace

PYBIND11_MODULE(_lmlab, m) {
  m.doc() = "lmlab: the papers' algorithms in C++ over LibTorch";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lmlab::UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const lmlab::DataError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  m.def(
      "info",
      [] {
        py::dict d;
        for (const auto& [name, value] : lmlab::environment_info()) d[py::str(name)] = value;
        return d;
      },
      "Versions, BLAS, threads, SIMD level detected and in use, CPU: what `lmlab info` prints.");
  m.def(
      "simd_level", [] { return lmlab::simd_level_name(lmlab::active_simd_level()); },
      "The SIMD level lmlab's kernels use: 'scalar', 'avx2' or 'avx512' (env LMLAB_SIMD overrides).");
  m.def(
      "encode", [](const std::string& text) { return lmlab::ByteTokenizer().encode(text); },
      py::arg("text"), "Byte tokens of `text` (UTF-8 bytes): int64 tensor [N], vocabulary 256.");
  m.def(
      "decode", [](const torch::Tensor& tokens) { return py::bytes(lmlab::ByteTokenizer().decode(tokens)); },
      py::arg("tokens"), "The bytes of an integer tensor of byte tokens 0..255.");
  bind_onebit(m);
  bind_attention(m);
  m.def("unigram_bits_per_byte", &lmlab::unigram_bits_per_byte, py::arg("train"), py::arg("eval"),
        "Bits per byte on `eval` of an add-one-smoothed byte unigram fitted on `train`.");
}
