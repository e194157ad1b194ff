// Per-example gradients in one backward pass, the core of DP-SGD (Abadi et al. 2016,
// arXiv 1607.00133, Algorithm 1's g_t(x_i); P6, arXiv 2311.13624, its DP defense).
//
// Given per-example losses l [B] of a module on a batch of B examples, returns for every
// parameter p (shape P) that l depends on the per-example gradients G_p [B, P] with
// G_p[i] = d l_i / d p, from ONE backward of sum_i l_i. Each layer's per-example gradient is formed
// from its input and its output gradient, as Opacus's grad samplers do, with rows grouped per
// example (N rows = B blocks of N/B):
//   linear (mm/addmm), x [N, in], dy [N, out]:   G_W[i] = sum_{n in i} dy_n x_n^T   [B, out, in]
//                                               G_b[i] = sum_{n in i} dy_n          [B, out]
//   embedding, ids [B, ...], dy [B, ..., C]:     G_E[i] = sum_{t} e_{ids_it} dy_it^T  [B, V, C]
//   layer norm, x^ = (x - mean) rstd:            G_gamma[i] = sum_t dy_it * x^_it, G_beta[i] = sum_t dy_it
//   a parameter broadcast over the batch (a bias added after matmul, ViT's pos, cls.expand):
//                                               G[i] = dy[i] summed over the broadcast dimensions
// and passed down to the parameter through example-independent maps: a transpose (W^T in
// linear, a tied head), BitLinear's straight-through quantizer (identity gradient, P1), and an
// embedding looked up with example-independent ids (GPT's positions wpe). A parameter used twice
// (GPT's tied wte) gets the sum of its uses.
//
// How [ours]: LibTorch 1.13's C++ modules have no forward hooks, so the layers are found in the
// autograd graph of l: a pre-hook on each backward node that consumes a parameter receives dy,
// and the node's saved tensors give x (ids, mean, rstd). This reads LibTorch 1.13's generated
// node classes (MmBackward0, AddmmBackward0, EmbeddingBackward0, NativeLayerNormBackward0,
// AddBackward0, ExpandBackward0, TBackward0); any other node consuming a parameter (a
// convolution, a parameter multiplied elementwise, an attention core's own parameter) is a
// UsageError naming the parameter and the operation, raised before any backward runs.
// Requirement: the model keeps examples apart (no batch norm) and each layer's rows are
// batch-major, true of lmlab's MLP, GPT and ViT.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab::privacy {

struct PerExampleGrads {
  std::vector<std::string> names;    // the parameters' names in the module
  std::vector<torch::Tensor> params; // the parameters themselves
  std::vector<torch::Tensor> grads;  // grads[k] [B, *params[k].shape]
  int64_t batch = 0;                 // B
};

// Per-example gradients of `losses` [B] (one loss per example, not their mean) with respect to
// the parameters of `module` that require grad and that the losses depend on. Does not touch the
// parameters' .grad. UsageError: losses not 1-D with a graph, a parameter used by an operation
// the machinery does not support (named), a layer whose rows do not split into B examples.
PerExampleGrads per_example_gradients(torch::nn::Module& module, const torch::Tensor& losses);
// The same over named tensors (a Python torch.nn.Module's named_parameters(): the graph is
// LibTorch's either way); `names` and `params` of one length.
PerExampleGrads per_example_gradients(const std::vector<std::string>& names, const std::vector<torch::Tensor>& params,
                                      const torch::Tensor& losses);

// Per-example L2 norms over all parameters, [B].
torch::Tensor per_example_norms(const PerExampleGrads& g);

}  // namespace lmlab::privacy
