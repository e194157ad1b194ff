// Inverting Gradients (Geiping, Bauermeister, Droege, Moeller 2020, arXiv 2003.14053), the stronger
// image attack P6 (arXiv 2311.13624) weighs: match the direction of the gradient, not its size,
// with a total-variation prior:
//   min_{x' in [lo,hi]}  1 - <dL(x', y)/dtheta, g> / (|dL(x', y)/dtheta| |g|) + tv_weight TV(x')
// (gradient_matching.h; TV the mean absolute difference of neighbouring pixels, both directions).
// Adam (lr 0.1) on the sign of the gradient, x' projected to the valid pixel box after each step,
// 4000 iterations with the lr divided by 10 at 3/8, 5/8 and 7/8 of them; x' starts N(0, 1). The
// paper assumes the labels known (with batch 1, from iDLG's rule); without labels, label logits are
// searched as in DLG.
// Deviations: one restart (the paper's best of several restarts picks by the matching loss; a caller
// can run seeds and keep the lowest loss_history.back()); the box is [0,1] by default since lmlab's
// images are not normalised.
#pragma once

#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy {

struct InvertingGradientsOptions {
  void validate() const;  // UsageError naming the bad value
  TORCH_ARG(int64_t, iterations) = 4000;  // >= 1
  TORCH_ARG(double, lr) = 0.1;            // Adam, > 0
  TORCH_ARG(double, tv_weight) = 1e-4;    // >= 0
  TORCH_ARG(bool, signed_gradients) = true;
  TORCH_ARG(bool, boxed) = true;
  TORCH_ARG(double, box_low) = 0.0;       // box_low < box_high
  TORCH_ARG(double, box_high) = 1.0;
};

AttackResult inverting_gradients(const Victim& victim, const TensorList& target, const AttackSetup& setup,
                                 const InvertingGradientsOptions& options = {});

}  // namespace lmlab::privacy
