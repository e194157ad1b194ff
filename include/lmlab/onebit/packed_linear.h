// Packed inference for trained 1-bit and ternary layers (P1, arXiv 2411.01663; BitNet arXiv
// 2310.11453, BitNet b1.58 arXiv 2402.17764): onebit::pack turns a BitLinear into a PackedLinear
// whose weights are the integer pattern T of Q(W) = s * T in the formats of lmlab/kernels/packed.h
// (1 bit/weight binary, 2 bits/weight ternary) and whose matrix product runs on the SIMD kernels of
// lmlab/kernels/onebit.h (fp32 activations) and the lookup-table kernels of
// lmlab/kernels/onebit_lut.h (int8 activations; faster than onebit.h's int8 kernels at every batch
// size measured, docs/onebit.md).
//
//   x [..., in] -> y [..., out], rows M = prod(...):
//     act_bits 0:  y = s * (x' T^T) + b                     fp32 kernel, x' = LN(x) or x
//     act_bits 8:  y = s * g_m/127 * (c T^T) + b            int8 kernel, exact int32 c T^T,
//                  c = clip(round(127 x'_m / g_m), -127, 127), g_m = max(max_k |x'_mk|, eps)
// which is BitLinear's forward computed in another order: equal up to float rounding (bound in
// tests/onebit/packed_linear_test.cpp). Rows of T (outputs) are split across LibTorch's intra-op
// threads. No gradients: PackedLinear is inference only, and its forward refuses tensors that
// require grad.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <torch/torch.h>

#include "lmlab/kernels/onebit_lut.h"
#include "lmlab/onebit/bit_linear.h"

namespace lmlab::onebit {

class PackedLinear;

class PackedLinearImpl : public torch::nn::Module {
 public:
  // Packs `layer`'s current weights. Throws UsageError when the latent weights or the bias hold
  // NaN or Inf (the message names the first one and its position).
  explicit PackedLinearImpl(const BitLinearImpl& layer);

  // x float32 [..., in] on the CPU, finite; any layout.
  torch::Tensor forward(const torch::Tensor& x);

  const BitLinearOptions& options() const { return options_; }
  double weight_scale() const { return scale_.item<double>(); }
  // Bytes of the packed weights: out * ceil(in / 64) * 8 (binary) or twice that (ternary).
  int64_t packed_weight_bytes() const { return words_.numel() * 8; }
  // T as floats [out, in] (values -1, 0, +1), unpacked from the stored words.
  torch::Tensor pattern() const;

 private:
  friend PackedLinear load_packed(const std::string& path);
  // A layer of `options`' shape whose words, scale and bias are yet to be filled in (load_packed).
  PackedLinearImpl(const BitLinearOptions& options, bool uninitialised);

  // The lookup-table layout of words_ (onebit_lut.h), made at the first int8 forward and again
  // whenever words_ changes (a load into this module). Shared, so a forward keeps the layout it
  // started with while another thread's load replaces it.
  std::shared_ptr<const kernels::LutWeights> lut_weights();

  BitLinearOptions options_;
  std::mutex lut_mutex_;
  std::shared_ptr<const kernels::LutWeights> lut_;
  std::pair<const void*, int64_t> lut_of_{nullptr, -1};  // words_'s data pointer and version it was made from
  torch::Tensor scale_;  // double [], s of Q(W) = s * T: a buffer, so that it is saved with the words
  torch::Tensor words_;  // int64 [out, words per row (x2 planes for ternary)], the packed.h layout
  torch::Tensor bias_;   // float [out] or undefined
};
TORCH_MODULE(PackedLinear);

// The inference layer for `layer`'s current weights.
PackedLinear pack(const BitLinearImpl& layer);

// Packed layers on disk: a weights file (lmlab/models/weights.h) whose kind describes the layer,
//   "onebit.packed_linear v1 in=64 out=16 quant=ternary centered=0 scaled=1 bias=1 act_bits=8 input_norm=0"
// and whose buffers are the words, the scale and the bias. load_packed rebuilds the layer from the
// kind and checks what the kernels rely on: no ternary weight set in both planes, a finite scale
// >= 0, a finite bias. A missing, foreign, corrupt or invalid file is a DataError naming it.
void save_packed(const PackedLinearImpl& layer, const std::string& path);
PackedLinear load_packed(const std::string& path);

// Switches every BitLinear in `model` (itself included) to packed inference (BitLinearImpl::
// set_packed), or back to training mode. Returns the number of layers switched. Packed layers use
// the weights of the moment they were packed: call pack_model again after changing them.
int64_t pack_model(torch::nn::Module& model);
int64_t unpack_model(torch::nn::Module& model);

}  // namespace lmlab::onebit
