// Random Vector Accelerating (P4, arXiv 2402.01515; NOTES.md P4). After the base step u, draw
// v ~ N(0, I) over all parameters (or, with subspace_dim k, over k coordinates drawn at random,
// the others zero), orient it so that <v, u> >= 0, and step along
//
//   d = u + 2 <v^, u> v^ = (I + 2 v^ v^T) u,   v^ = v / ||v||,
//
// the accelerating branch of the unified direction (acceleration.h): <d, u> = ||u||^2 (1 + 2 cos^2
// theta) >= ||u||^2 and E[d] = (1 + 2 / dim) u (E[v^ v^T] = I / dim, in both variants by symmetry).
// Applied to the base direction, so it runs on top of any optimizer (the paper's appendix applies
// it to Adam). The draws come from the wrapper's own generator (seed), saved with save().
#pragma once

#include <cstdint>

#include "lmlab/optim/step_wrapper.h"

namespace lmlab::optim {

struct RandomVectorAcceleratingOptions {
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(int64_t, subspace_dim) = 0;  // k >= 1: v lives on k random coordinates; 0: all
};

class RandomVectorAccelerating : public StepWrapper {
 public:
  explicit RandomVectorAccelerating(torch::optim::Optimizer& base, RandomVectorAcceleratingOptions options = {});
  const RandomVectorAcceleratingOptions& options() const { return options_; }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 protected:
  void adjust(const Snapshot& s, const TensorList& u) override;

 private:
  // v over the shapes of u: Gaussian everywhere, or on subspace_dim random coordinates.
  TensorList draw(const TensorList& u);

  RandomVectorAcceleratingOptions options_;
  torch::Generator generator_;
};

}  // namespace lmlab::optim
