// Gradient matching, the core every gradient-leakage attack here shares (P6, arXiv 2311.13624,
// Li, Song, Wang, Yang: "data can be recovered from gradients of transformer models"; the attack
// family of Zhu et al. 2019 DLG, Zhao et al. 2020 iDLG, Geiping et al. 2020 Inverting Gradients and
// Deng et al. 2021 TAG).
//
// The attacker knows the victim model (its parameters theta and training loss L) and a gradient
// g = dL(x, y)/dtheta of a batch (the mean over its B examples). It searches dummy inputs x' (and,
// when the labels are unknown, label logits y') that minimise a distance D(dL(x', y')/dtheta, g);
// the derivative of D with respect to x', y' runs through the gradient itself (double backward).
// Distances, over the list of parameter tensors l:
//   SquaredL2 (DLG):         sum_l ||d_l - g_l||^2
//   Cosine (IG):             1 - <d, g> / (|d| |g|), d and g every layer concatenated
//   SquaredL2PlusL1 (TAG):   sum_l ||d_l - g_l||^2 + alpha ||d_l - g_l||_1
// Deviation [ours]: a parameter the dummy loss does not reach (e.g. a language model's token
// embedding table when the attack feeds embeddings) has no dummy gradient; it is left out of D
// rather than matched against zero, since no dummy can change that term.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

namespace lmlab::privacy {

using TensorList = std::vector<torch::Tensor>;

// The victim as the attacker sees it: the parameters whose gradients the target holds (same order,
// same shapes) and the training loss of a batch. `labels` is what loss takes: int64 class ids, or
// floating label logits (soft labels, see soft_cross_entropy).
struct Victim {
  TensorList parameters;
  std::function<torch::Tensor(const torch::Tensor& inputs, const torch::Tensor& labels)> loss;
};

// Cross-entropy of logits [B,K] (or [B,T,K], every position a row) against int64 labels [B] (or
// [B,T]), or against label logits of the logits' shape, whose softmax is the target distribution
// (DLG's soft label): mean over rows of -sum_k softmax(labels)_k log softmax(logits)_k.
torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// A classifier: loss(x, labels) = soft_cross_entropy(forward(x), labels) over `parameters`.
Victim classifier_victim(TensorList parameters, std::function<torch::Tensor(const torch::Tensor&)> forward);

// dL(inputs, labels)/dparameters, one entry per parameter (undefined where L does not reach it).
// With create_graph the entries are differentiable in inputs and labels (double backward);
// without, they are detached: the gradient a training step would share.
TensorList victim_gradients(const Victim& victim, const torch::Tensor& inputs, const torch::Tensor& labels,
                            bool create_graph = false);

enum class GradientDistance { SquaredL2, Cosine, SquaredL2PlusL1 };

// D(dummy, target) as above (alpha used by SquaredL2PlusL1 only). Pairs with an undefined dummy
// entry are skipped; UsageError when none is left or the shapes differ.
torch::Tensor gradient_distance(const TensorList& dummy, const TensorList& target, GradientDistance distance,
                                double alpha = 0.0);

using LabelMap = std::function<torch::Tensor(const torch::Tensor& inputs, const torch::Tensor& label_logits)>;

// What is searched: dummy inputs of input_shape, and label logits of label_shape unless the labels
// are known (iDLG's inferred label, or labels the attacker is given). Dummy inputs start
// N(0, init_std^2) and label logits N(0, 1), from a generator seeded with `seed`.
struct AttackSetup {
  explicit AttackSetup(std::vector<int64_t> input_shape = {}) : input_shape_(std::move(input_shape)) {}
  // UsageError unless the shapes are non-empty with sizes >= 1 and either labels or a label shape
  // is given; the target must be finite and match the victim's parameters one to one.
  void validate(const Victim& victim, const TensorList& target) const;
  TORCH_ARG(std::vector<int64_t>, input_shape);  // e.g. [B,Ch,H,W] images, [B,T,C] token embeddings
  TORCH_ARG(std::vector<int64_t>, label_shape);  // e.g. [B,K]; ignored when labels are given
  TORCH_ARG(torch::Tensor, labels);              // known labels, or undefined
  TORCH_ARG(uint64_t, seed) = 0;
  TORCH_ARG(double, init_std) = 1.0;  // > 0; e.g. the token table's std for embeddings [ours]
  // When set, the victim's loss receives label_map(inputs, label_logits) instead of the searched
  // label logits: labels that are a function of the inputs (causal_label_map, text_recovery.h).
  TORCH_ARG(LabelMap, label_map) = nullptr;
};

struct AttackResult {
  torch::Tensor inputs;        // recovered x', detached, input_shape
  torch::Tensor labels;        // the known labels, or argmax over the last axis of the label logits
  torch::Tensor label_logits;  // recovered y' (after the label map, if any; undefined when known)
  std::vector<double> loss_history;  // the matching objective at each outer step, before its update
  bool diverged = false;       // the objective became NaN/Inf; inputs hold the last finite iterate
};

}  // namespace lmlab::privacy
