// Private header (not installed): the pieces of src/privacy/ attacks share: the dummies, the
// matching objective and one first-order attack loop (Adam, used by Inverting Gradients and TAG).
#pragma once

#include <optional>
#include <utility>

#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy::detail {

// The searched tensors: inputs, and label logits when labels are unknown (then labels undefined).
struct Dummies {
  torch::Tensor inputs, label_logits, known_labels;
  LabelMap label_map;
  torch::Tensor labels() const;  // the known labels or the label logits, as the victim's loss takes them
  TensorList trainable() const;  // inputs, and label_logits when defined
};
Dummies make_dummies(const AttackSetup& setup);

// D(dL(x', y')/dtheta, g) + tv_weight * TV(x') (TV only for 4-D image inputs).
torch::Tensor matching_objective(const Victim& victim, const TensorList& target, const Dummies& d,
                                 GradientDistance distance, double alpha, double tv_weight);

// Anisotropic total variation of images [B,Ch,H,W] (Geiping et al.): mean |horizontal difference|
// + mean |vertical difference|.
torch::Tensor total_variation(const torch::Tensor& images);

// Fills an AttackResult from the dummies (labels: known ones, or argmax of the logits).
AttackResult finish(const Dummies& d, std::vector<double> history, bool diverged);

struct AdamLoop {
  int64_t iterations = 1;
  double lr = 0.1;
  GradientDistance distance = GradientDistance::Cosine;
  double alpha = 0, tv_weight = 0;
  bool signed_gradients = false;                      // step on sign(grad) (IG)
  std::optional<std::pair<double, double>> box;       // project inputs to [lo, hi] after each step
  double clip_norm = 0;                               // > 0: clip each dummy's gradient norm (TAG)
};
// Adam on the objective, the lr divided by 10 at 3/8, 5/8 and 7/8 of the iterations.
AttackResult run_adam(const Victim& victim, const TensorList& target, const AttackSetup& setup, const AdamLoop& loop);

}  // namespace lmlab::privacy::detail
