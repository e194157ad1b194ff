// Gradient matching (include/lmlab/privacy/gradient_matching.h).
#include "lmlab/privacy/gradient_matching.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::privacy {

torch::Tensor soft_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  LMLAB_CHECK(logits.defined() && labels.defined() && logits.dim() >= 2, UsageError,
              "soft_cross_entropy needs logits [B,K] or [B,T,K] and labels");
  const int64_t k = logits.size(-1);
  const auto rows = logits.reshape({-1, k});
  if (!labels.is_floating_point()) {
    LMLAB_CHECK(labels.numel() == rows.size(0), UsageError, "labels ", labels.sizes(), " do not fit logits ",
                logits.sizes(), ": need one class id per row");
    LMLAB_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < k, UsageError,
                "class ids must lie in [0, ", k, "); got ", labels.min().item<int64_t>(), "..",
                labels.max().item<int64_t>());
    return torch::nn::functional::cross_entropy(rows, labels.reshape({-1}).to(torch::kLong));
  }
  LMLAB_CHECK(labels.sizes() == logits.sizes(), UsageError, "label logits ", labels.sizes(),
              " must have the logits' shape ", logits.sizes());
  const auto target = torch::softmax(labels.reshape({-1, k}), 1);
  return -(target * torch::log_softmax(rows, 1)).sum(1).mean();
}

Victim classifier_victim(TensorList parameters, std::function<torch::Tensor(const torch::Tensor&)> forward) {
  LMLAB_CHECK(!parameters.empty() && forward, UsageError, "a classifier victim needs parameters and a forward");
  return {std::move(parameters), [forward = std::move(forward)](const torch::Tensor& x, const torch::Tensor& y) {
            return soft_cross_entropy(forward(x), y);
          }};
}

TensorList victim_gradients(const Victim& victim, const torch::Tensor& inputs, const torch::Tensor& labels,
                            bool create_graph) {
  LMLAB_CHECK(!victim.parameters.empty() && victim.loss, UsageError, "the victim needs parameters and a loss");
  const auto loss = victim.loss(inputs, labels);
  LMLAB_CHECK(loss.numel() == 1, UsageError, "the victim's loss must be a scalar; got shape ", loss.sizes());
  auto grads = torch::autograd::grad({loss}, victim.parameters, {}, /*retain_graph=*/create_graph, create_graph,
                                     /*allow_unused=*/true);
  if (!create_graph)
    for (auto& g : grads)
      if (g.defined()) g = g.detach();
  return grads;
}

torch::Tensor gradient_distance(const TensorList& dummy, const TensorList& target, GradientDistance distance,
                                double alpha) {
  LMLAB_CHECK(dummy.size() == target.size(), UsageError, "dummy and target gradients must list the same ",
              "parameters; got ", dummy.size(), " and ", target.size(), " tensors");
  LMLAB_CHECK(std::isfinite(alpha) && alpha >= 0, UsageError, "the L1 weight alpha must be finite and >= 0; got ",
              alpha);
  torch::Tensor sum, dot, dn, tn;
  for (size_t i = 0; i < dummy.size(); ++i) {
    if (!dummy[i].defined()) continue;
    LMLAB_CHECK(target[i].defined() && dummy[i].sizes() == target[i].sizes(), UsageError, "gradient ", i,
                " has shape ", dummy[i].sizes(), " but the target's is ",
                target[i].defined() ? target[i].sizes() : c10::IntArrayRef{});
    const auto& d = dummy[i];
    const auto g = target[i].to(d.dtype());
    if (distance == GradientDistance::Cosine) {
      dot = dot.defined() ? dot + (d * g).sum() : (d * g).sum();
      dn = dn.defined() ? dn + d.pow(2).sum() : d.pow(2).sum();
      tn = tn.defined() ? tn + g.pow(2).sum() : g.pow(2).sum();
      continue;
    }
    const auto diff = d - g;
    auto term = diff.pow(2).sum();
    if (distance == GradientDistance::SquaredL2PlusL1) term = term + alpha * diff.abs().sum();
    sum = sum.defined() ? sum + term : term;
  }
  LMLAB_CHECK(sum.defined() || dot.defined(), UsageError,
              "no parameter of the victim depends on the dummy inputs: nothing to match");
  if (distance == GradientDistance::Cosine) return 1 - dot / (dn.sqrt() * tn.sqrt()).clamp_min(1e-30);
  return sum;
}

void AttackSetup::validate(const Victim& victim, const TensorList& target) const {
  LMLAB_CHECK(!input_shape_.empty(), UsageError, "the attack needs the input shape, e.g. [B,Ch,H,W]");
  for (const int64_t s : input_shape_)
    LMLAB_CHECK(s >= 1, UsageError, "input shape sizes must be >= 1; got ", c10::IntArrayRef(input_shape_));
  if (labels_.defined()) {
    LMLAB_CHECK(labels_.numel() >= 1 && labels_.size(0) == input_shape_[0], UsageError, "known labels ",
                labels_.sizes(), " must have one entry per example of the batch (", input_shape_[0], ")");
  } else {
    LMLAB_CHECK(!label_shape_.empty() && label_shape_[0] == input_shape_[0], UsageError,
                "labels are unknown, so the attack needs the label-logit shape with the batch first, e.g. [B,K]; got ",
                c10::IntArrayRef(label_shape_));
    for (const int64_t s : label_shape_)
      LMLAB_CHECK(s >= 1, UsageError, "label shape sizes must be >= 1; got ", c10::IntArrayRef(label_shape_));
  }
  LMLAB_CHECK(std::isfinite(init_std_) && init_std_ > 0, UsageError, "init_std must be finite and > 0; got ", init_std_);
  LMLAB_CHECK(!victim.parameters.empty() && victim.loss, UsageError, "the victim needs parameters and a loss");
  LMLAB_CHECK(target.size() == victim.parameters.size(), UsageError, "the target lists ", target.size(),
              " gradients but the victim has ", victim.parameters.size(), " parameters (same order needed)");
  for (size_t i = 0; i < target.size(); ++i) {
    LMLAB_CHECK(target[i].defined() && target[i].sizes() == victim.parameters[i].sizes(), UsageError,
                "target gradient ", i, " has shape ", target[i].defined() ? target[i].sizes() : c10::IntArrayRef{},
                " but parameter ", i, " has ", victim.parameters[i].sizes());
    LMLAB_CHECK(torch::isfinite(target[i]).all().item<bool>(), DataError, "target gradient ", i,
                " holds NaN or Inf; an attack needs a finite gradient");
  }
}

}  // namespace lmlab::privacy
