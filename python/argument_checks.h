// Private header of the Python extension: the argument checks of the bindings that build C++
// options from Python's shapes and values. They are plain C++ (no pybind11), so the fuzz target
// tests/fuzz/pyargs_fuzz.cpp drives exactly what the bindings call, without Python.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "lmlab/onebit/packed_linear.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/streaming_attention/polynomial_features.h"

namespace lmlab_python {

// BitLinearOptions from the Python layer's settings (names as in lmlab/onebit.py).
lmlab::onebit::BitLinearOptions bit_linear_options(const torch::Tensor& weight, bool bias, const std::string& quant,
                                                   bool centered, bool scaled, int act_bits, bool input_norm);

// onebit_pack: a BitLinear of `options` holding w [out, in] and b [out] (undefined: none), packed.
std::shared_ptr<lmlab::onebit::PackedLinearImpl> pack_weights(const torch::Tensor& w, const torch::Tensor& b,
                                                              const lmlab::onebit::BitLinearOptions& options);

// attention_sparse's options; `selection` is "top_k" or "mass".
lmlab::sparse_attention::SparseAttentionOptions sparse_attention_options(const std::string& selection, int64_t top_k,
                                                                         double eps, bool causal, double scale,
                                                                         bool tail_mass, int64_t block_rows);

// PolynomialFeatures::phi1 (queries) or phi2 (keys) of x [n, dim] (the C++ hot path does not check).
torch::Tensor checked_features(const lmlab::streaming_attention::PolynomialFeatures& f, const torch::Tensor& x,
                               bool phi1);

}  // namespace lmlab_python
