// TAG, Gradient Attack on Transformer-based Language Models (Deng et al. 2021, EMNLP Findings,
// arXiv 2103.06819), the text attack P6 (arXiv 2311.13624) anchors on: recover continuous token
// embeddings x' [B,T,C] (and label logits y' [B,T,V], the next-token targets) from the gradient g of
// a language model's loss by
//   min_{x', y'}  sum_l ||dg_l||^2 + alpha ||dg_l||_1,   dg_l = dL(x', softmax(y'))/dtheta_l - g_l
// then map each x'_t to a token (text_recovery.h, nearest_tokens). Optimiser and defaults follow
// the breaching library's TAG replay (tag_scale 0.1, Adam step 0.05, 1000 iterations, gradient
// norm clipped to 1), as the paper gives no code: alpha = 0.1, Adam lr 0.05, 1000 iterations.
// Deviations [ours]: the lr divided by 10 at 3/8, 5/8, 7/8 of the iterations (Inverting Gradients'
// schedule; breaching's TAG replay guesses a schedule too); no per-layer weights (breaching's replay
// weights layers linearly, a guess it marks as such); x' and y' start N(0, 1).
#pragma once

#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy {

struct TagOptions {
  void validate() const;  // UsageError naming the bad value
  TORCH_ARG(int64_t, iterations) = 1000;  // >= 1
  TORCH_ARG(double, lr) = 0.05;           // Adam, > 0
  TORCH_ARG(double, alpha) = 0.1;         // L1 weight, >= 0
  TORCH_ARG(double, clip_norm) = 1.0;     // per dummy tensor; 0 = no clipping
};

// setup.input_shape is [B,T,C] (the victim's loss takes embeddings), setup.label_shape [B,T,V]
// unless the targets are known.
AttackResult tag(const Victim& victim, const TensorList& target, const AttackSetup& setup,
                 const TagOptions& options = {});

}  // namespace lmlab::privacy
