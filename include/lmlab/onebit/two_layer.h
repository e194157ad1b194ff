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
// Why a bias. For x uniform on the sphere ||x|| = sqrt(d) and any row s with ||s|| = sqrt(d) (every
// sign row), E_x relu(<s, x> / sqrt(d)) = C_d = sqrt(d) Gamma(d/2) / (2 sqrt(pi) Gamma((d+1)/2))
// (-> 1/sqrt(2 pi)), the same for every row, so E_x f = kappa C_d sum_r a_r / sqrt(m) for every sign
// pattern: 0 from the antisymmetric start, whatever training does. A bias-free 1-bit net cannot fit
// a target's constant part (its full-precision twin can, by changing row norms). Two ways out:
//   TwoLayerBias::Output  f + b, b a trained full-precision scalar, 0 at initialisation;
//   TwoLayerBias::Input   x' = (x, 1) and W [m, d+1], normalised by sqrt(d+1): each hidden unit has
//                         a weight on the constant coordinate, quantized like the others (a 1-bit
//                         bias); antisymmetric rows share it, so f = 0 at initialisation still.
//
// Empirical NTK with respect to the latent W (what gradient descent moves), on x [N, d]:
//   K(x_i, x_j) = kappa^2 / (m d) * <x_i, x_j> * sum_r 1[<Q(w_r), x_i> > 0] 1[<Q(w_r), x_j> > 0]
// (the straight-through gradient of f(x) w.r.t. w_r is kappa/sqrt(m) a_r 1[.] x / sqrt(d)); with
// TwoLayerBias::Input, x' and d + 1 in place of x and d.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "lmlab/onebit/quantize.h"

namespace lmlab::onebit {

enum class TwoLayerBias { None, Output, Input };
// "none", "output" or "input"; UsageError naming the choices otherwise.
TwoLayerBias two_layer_bias_from_name(const std::string& name);

// C_d above: the mean activation of any sign row over the sphere.
double sign_row_mean_activation(int64_t dim);

struct TwoLayerOptions {
  TwoLayerOptions(int64_t dim, int64_t width) : dim_(dim), width_(width) {}
  TORCH_ARG(int64_t, dim);                   // d
  TORCH_ARG(int64_t, width);                 // m
  TORCH_ARG(double, kappa) = 1.0;
  TORCH_ARG(bool, quantized) = true;         // false: the full-precision twin
  TORCH_ARG(WeightQuantOptions, weights) = WeightQuantOptions().scaled(false);  // Q = sign
  TORCH_ARG(bool, antisymmetric) = true;
  TORCH_ARG(TwoLayerBias, bias) = TwoLayerBias::Output;
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
  torch::Tensor weight;  // W [m, d] (TwoLayerBias::Input: [m, d+1]), trained
  torch::Tensor a;       // [m], a buffer
  torch::Tensor bias;    // [] trained, TwoLayerBias::Output only (undefined otherwise)

 private:
  // x, checked, with the constant coordinate appended under TwoLayerBias::Input.
  torch::Tensor features(const torch::Tensor& x) const;
  TwoLayerOptions options_;
};
TORCH_MODULE(TwoLayerNet);

}  // namespace lmlab::onebit
