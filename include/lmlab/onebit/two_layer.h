// The two-layer network of the 1-bit scaling theory (P1, arXiv 2411.01663; our reading, NOTES.md):
//
//   f(x) = kappa / sqrt(m) * sum_r a_r relu(<Q(w_r), x> / sqrt(d))        x [N, d] -> f [N]
//
// W [m, d] (rows w_r) is trained, with full-precision latent values and the straight-through
// gradient when Q quantizes (Q = sign for the 1-bit net, Q = identity for its full-precision
// twin); a [m] in {-1, +1} is fixed (a "soft committee machine"). Initialisation: w_r ~ N(0, I_d),
// a_r = +-1 uniformly. With `antisymmetric` (the doubling trick, Chizat & Bach 2018), m is even,
// rows r and r + m/2 share w_r and have opposite a_r, so f = 0 at initialisation for both twins:
// their difference then measures training, not two different random initial functions.
//
// Empirical NTK with respect to the latent W (what gradient descent moves), on x [N, d]:
//   K(x_i, x_j) = kappa^2 / (m d) * <x_i, x_j> * sum_r 1[<Q(w_r), x_i> > 0] 1[<Q(w_r), x_j> > 0]
// (the straight-through gradient of f(x) w.r.t. w_r is kappa/sqrt(m) a_r 1[.] x / sqrt(d)).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "lmlab/onebit/quantize.h"

namespace lmlab::onebit {

struct TwoLayerOptions {
  TwoLayerOptions(int64_t dim, int64_t width) : dim_(dim), width_(width) {}
  TORCH_ARG(int64_t, dim);                   // d
  TORCH_ARG(int64_t, width);                 // m
  TORCH_ARG(double, kappa) = 1.0;
  TORCH_ARG(bool, quantized) = true;         // false: the full-precision twin
  TORCH_ARG(WeightQuantOptions, weights) = WeightQuantOptions().scaled(false);  // Q = sign
  TORCH_ARG(bool, antisymmetric) = true;
  TORCH_ARG(uint64_t, seed) = 0;             // of W and a (the twins share it)
};

class TwoLayerNetImpl : public torch::nn::Module {
 public:
  explicit TwoLayerNetImpl(const TwoLayerOptions& options);

  torch::Tensor forward(const torch::Tensor& x);  // [N, d] -> [N]

  // Q(W) as the forward uses it (W itself for the full-precision twin).
  torch::Tensor effective_weight() const;

  // The empirical NTK Gram matrix K [N, N] on x [N, d] (closed form above, no gradients).
  torch::Tensor ntk_gram(const torch::Tensor& x) const;

  const TwoLayerOptions& options() const { return options_; }
  torch::Tensor weight;  // W [m, d], trained
  torch::Tensor a;       // [m], a buffer

 private:
  void check_input(const torch::Tensor& x) const;
  TwoLayerOptions options_;
};
TORCH_MODULE(TwoLayerNet);

}  // namespace lmlab::onebit
