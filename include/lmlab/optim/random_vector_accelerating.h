// Random Vector Accelerating (P4, arXiv 2402.01515; NOTES.md P4). After the base step u, draw
// v ~ N(0, I) over all parameters (or, with subspace_dim k, over k coordinates drawn at random,
// the others zero), orient it so that <v, u> >= 0, and step along
//
//   d = u + 2 <v^, u> v^ = (I + 2 v^ v^T) u,   v^ = v / ||v||,
//
// the accelerating branch of the unified direction (acceleration.h): <d, u> = ||u||^2 (1 + 2 cos^2
// theta) >= ||u||^2 and E[d] = (1 + 2 / dim) u (E[v^ v^T] = I / dim, in both variants by symmetry).
// Applied to the base direction, so it runs on top of any optimizer (the paper's appendix applies
// it to Adam). Full-space draws come from lmlab's vectorised Gaussian (kernels/optim_step.h),
// keyed by (seed, step) and indexed by coordinate, so they need no generator state and do not
// depend on the thread count; over SGD with momentum the draw is fused with its inner products
// (momentum_step.h). Subspace draws pick their k coordinates with the wrapper's own LibTorch
// generator (their values from the same stream), and over SGD with momentum touch only those k
// coordinates beyond the base step. The seed and the generator are saved with save().
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
  void fused_step(MomentumStep& m) override;

 private:
  // The key of this step's Gaussian stream, from the seed and the step.
  uint64_t stream_key() const;
  // A subspace draw: subspace_dim distinct coordinates of [0, total) (Floyd's algorithm on the
  // wrapper's generator), sorted, and their Gaussian values from this step's stream.
  struct SubspaceDraw {
    std::vector<int64_t> coords;
    std::vector<float> values;
  };
  SubspaceDraw draw_subspace(int64_t total);
  // Whether draws over the shapes of `like` live on subspace_dim coordinates (fewer than all).
  bool in_subspace(const TensorList& like) const;
  // v over the shapes of `like`: Gaussian everywhere, or on subspace_dim random coordinates.
  TensorList draw(const TensorList& like);
  // This step's full-space draw into float32 tensors of the shapes of `like` (reusing the last
  // step's); returns sum_i weights[i] <v_i, x_i> (with x, one float32 tensor per entry) and <v, v>.
  // Tensor i's coordinates are draws start_i + k of the stream, start_i the sizes before it, each
  // rounded up to even.
  kernels::GaussianDots fill(const TensorList& like, const TensorList* x = nullptr,
                             const std::vector<double>& weights = {});

  RandomVectorAcceleratingOptions options_;
  torch::Generator generator_;
  TensorList scratch_;  // the full-space draws, reused from step to step
};

}  // namespace lmlab::optim
