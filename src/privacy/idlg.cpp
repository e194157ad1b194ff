// iDLG (include/lmlab/privacy/idlg.h).
#include "lmlab/privacy/idlg.h"

#include "lmlab/core/error.h"

namespace lmlab::privacy {

int64_t idlg_label_from_weight(const torch::Tensor& weight_grad) {
  LMLAB_CHECK(weight_grad.defined() && weight_grad.dim() == 2 && weight_grad.size(0) >= 2, UsageError,
              "iDLG needs the last layer's weight gradient [K,F] with K >= 2 classes");
  return weight_grad.sum(1).argmin().item<int64_t>();
}

int64_t idlg_label_from_bias(const torch::Tensor& bias_grad) {
  LMLAB_CHECK(bias_grad.defined() && bias_grad.dim() == 1 && bias_grad.size(0) >= 2, UsageError,
              "iDLG needs the last layer's bias gradient [K] with K >= 2 classes");
  return bias_grad.argmin().item<int64_t>();
}

AttackResult idlg(const Victim& victim, const TensorList& target, AttackSetup setup, int64_t head_weight,
                  int64_t head_bias, const DlgOptions& options) {
  LMLAB_CHECK(!setup.input_shape().empty() && setup.input_shape()[0] == 1, UsageError,
              "iDLG's label rule holds for batch 1 only; input shape ", c10::IntArrayRef(setup.input_shape()),
              " has batch ", setup.input_shape().empty() ? 0 : setup.input_shape()[0], "; use dlg for batches");
  const auto n = static_cast<int64_t>(target.size());
  LMLAB_CHECK(head_weight >= 0 && head_weight < n && head_bias < n, UsageError, "head indices (weight ", head_weight,
              ", bias ", head_bias, ") must point into the ", n, " target gradients");
  const int64_t label =
      head_bias >= 0 ? idlg_label_from_bias(target[head_bias]) : idlg_label_from_weight(target[head_weight]);
  setup.labels(torch::tensor({label}, torch::kLong));
  return dlg(victim, target, setup, options);
}

}  // namespace lmlab::privacy
