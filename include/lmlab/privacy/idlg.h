// iDLG, improved Deep Leakage from Gradients (Zhao, Mopuri, Bilen 2020, arXiv 2001.02610), as P6
// (arXiv 2311.13624) uses it: with batch 1 and cross-entropy over softmax logits z = W h + b, the
// last layer's gradients are dL/dW_k = (p_k - y_k) h^T [K,F] and dL/db_k = p_k - y_k [K], and
// p_k - y_k < 0 only for the true class. So
//   label = argmin_k sum_f dL/dW_{k,f}    (the released rule: the row with the negative sum; exact
//                                          when sum_f h_f > 0, e.g. ReLU features)
//   label = argmin_k dL/db_k              ([ours] the bias form: exact for any features, needed
//                                          after a LayerNorm, whose outputs can sum to about 0)
// then DLG (dlg.h) searches only x' with that label.
#pragma once

#include "lmlab/privacy/dlg.h"

namespace lmlab::privacy {

// From the last layer's weight gradient [K,F] (row-sum rule).
int64_t idlg_label_from_weight(const torch::Tensor& weight_grad);
// From the last layer's bias gradient [K].
int64_t idlg_label_from_bias(const torch::Tensor& bias_grad);

// The label from target[head_bias] when head_bias >= 0, else from target[head_weight]; then DLG
// with setup.labels set to it. UsageError unless the batch (input_shape[0]) is 1.
AttackResult idlg(const Victim& victim, const TensorList& target, AttackSetup setup, int64_t head_weight,
                  int64_t head_bias = -1, const DlgOptions& options = {});

}  // namespace lmlab::privacy
