// Test support for tests/privacy (not installed): tiny victims whose gradients the attacks invert.
#pragma once

#include <torch/torch.h>

#include "lmlab/models/mlp.h"
#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy::test_fixtures {

// A tanh MLP classifier on images [B,1,S,S] (flattened): S*S -> hidden -> classes.
struct TinyClassifier {
  MLP mlp;
  Victim victim;
  TinyClassifier(int64_t side, int64_t hidden, int64_t classes, uint64_t seed,
                 torch::Dtype dtype = torch::kFloat)
      : mlp(MLPOptions(side * side, {hidden}, classes).activation(Activation::Tanh)) {
    torch::manual_seed(seed);
    mlp = MLP(MLPOptions(side * side, {hidden}, classes).activation(Activation::Tanh));
    mlp->to(dtype);
    victim = classifier_victim(mlp->parameters(), [m = mlp](const torch::Tensor& x) mutable {
      return m->forward(x.flatten(1));
    });
  }
};

}  // namespace lmlab::privacy::test_fixtures
