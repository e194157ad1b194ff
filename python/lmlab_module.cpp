// The `lmlab._lmlab` extension: lmlab's C++ library for PyTorch users. Tensors cross the boundary
// without copies (the module shares the LibTorch of Debian's python3-torch). Errors map to Python
// exceptions: lmlab::UsageError -> ValueError, lmlab::DataError -> OSError, others -> RuntimeError.
#include <torch/python.h>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/tokenizer.h"
#include "lmlab/kernels/simd.h"

namespace py = pybind11;

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
  m.def("unigram_bits_per_byte", &lmlab::unigram_bits_per_byte, py::arg("train"), py::arg("eval"),
        "Bits per byte on `eval` of an add-one-smoothed byte unigram fitted on `train`.");
}
