// Hypergradient descent (Baydin et al. 2018, arXiv 1703.04782), the peer of P8's adapters: the lr
// follows the derivative of the loss with respect to it,
//   h_t = <g_t, d_{t-1}>,   lr_t = lr_{t-1} + beta h_t,
// with d the base optimizer's previous step direction per unit lr (lr_adapter.h): SGD-HD over SGD
// (d = g), Adam-HD over Adam (d = m^ / (sqrt(v^) + eps)). Paper defaults beta = 1e-3 (SGD-HD) and
// 1e-7 (Adam-HD). One lr per parameter group.
#pragma once

#include "lmlab/optim/lr_adapter.h"

namespace lmlab::optim {

struct HypergradientOptions {
  void validate() const;  // UsageError naming the value out of range
  TORCH_ARG(double, beta) = 1e-3;  // hypergradient learning rate, >= 0
  TORCH_ARG(LrBounds, bounds) = LrBounds();
};

class Hypergradient : public LrAdapter {
 public:
  Hypergradient(torch::optim::Optimizer& base, HypergradientOptions options = {}, StepWrapper* through = nullptr);

 protected:
  double adapt(double lr, const Inner& inner, GroupState& state) override;
  bool uses_direction() const override { return true; }

 private:
  HypergradientOptions options_;
};

}  // namespace lmlab::optim
