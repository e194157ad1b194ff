// Shared by onebit.kernel_regime and onebit.generalization_difference: the regression problems
// and the training of a 1-bit two-layer net beside its full-precision twin (lmlab/onebit/two_layer.h).
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/core/run.h"

namespace lmlab::onebit {

// x [n, d] with ||x|| = sqrt(d) (the sphere of the kernel analyses), y [n].
struct TwinProblem {
  std::string target;
  torch::Tensor x_train, y_train, x_test, y_test, x_probe;
  // Where E_x f is measured (sphere: n_mean fresh uniform points; fmnist: the test set), with the
  // target there.
  torch::Tensor x_mean, y_mean;
  double constant_share = 0;  // (E y)^2 / E y^2 on x_mean: the part of the target that is a constant
};

// target "sphere": a random two-layer ReLU teacher (dim, teacher_width) on the sphere;
// "fmnist": Fashion-MNIST classes fmnist.classes[0] (+1) vs fmnist.classes[1] (-1), images
// average-pooled by fmnist.pool, standardised per pixel on the training images, projected to the
// sphere. n_train / n_test / n_probe examples (the probe set is the first n_probe training ones).
// `seed` draws the teacher (sphere) or the subsets (fmnist) and the points.
TwinProblem make_twin_problem(const Config& cfg, const std::string& target, uint64_t seed);

// Trains TwoLayerNet(width, seed) with Q = sign and its full-precision twin, both with the bias of
// config key `bias` (none | output | input; two_layer.h), by full-batch gradient descent on
// L = mean (f - y)^2 / 2 (train.steps, train.lr, kappa). The row holds, for p in {bit, fp}:
// p_train_loss and p_test_loss (relative to mean y^2 / 2), p_mean_f (E_x f on x_mean), p_movement
// (||W_T - W_0|| / ||W_0||), p_flips (fraction of entries of W whose sign changed), p_ntk_drift
// (||K_T - K_0||_F / ||K_0||_F on the probe set), p_ntk_min_eig (smallest eigenvalue of K_0);
// gen_difference = mean |f_bit - f_fp| / rms(y) on the test set, train_loss_ratio (bit / fp) and
// target_mean (E y on x_mean). A call with the same config,
// problem target, width and seed as an earlier one in this process returns that call's row
// (onebit.kernel_regime and onebit.generalization_difference share their sweep).
Row train_twins(RunContext& ctx, const TwinProblem& problem, int64_t width, uint64_t seed);

// The sweep onebit.kernel_regime and onebit.generalization_difference share, for `target`: each
// seed s draws its own problem (make_twin_problem with derive_seed(run seed, "problem-<s>"): a
// teacher of its own on the sphere, its own subsets of Fashion-MNIST), and each width x seed is a
// resumable sweep point of train_twins. Records <target>.constant_share, one value per seed.
// Returns rows[width index][seed index].
std::vector<std::vector<Row>> twin_sweep(RunContext& ctx, const std::string& target);

// The median over seeds of field `key` at each width of a twin_sweep.
std::vector<double> median_per_width(const std::vector<std::vector<Row>>& rows, const std::string& key);

}  // namespace lmlab::onebit
