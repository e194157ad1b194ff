// DLG, Deep Leakage from Gradients (Zhu, Liu, Han 2019, arXiv 1906.08935), the attack P6 (arXiv
// 2311.13624) studies on transformers: from the gradient g of one batch, recover inputs x' and soft
// labels y' by
//   min_{x', y'}  sum_l || dL(x', softmax(y'))/dtheta_l - g_l ||^2        (gradient_matching.h)
// with L-BFGS (lr 1, history 100, up to 20 inner iterations per outer step as torch.optim.LBFGS's
// default, 300 outer steps in the released code), x' and y' drawn N(0, 1). With known labels (iDLG,
// idlg.h) only x' is searched. Works on any victim (MLP, ViT, GPT from embeddings) whose loss is
// twice differentiable.
// Deviations [ours]: L-BFGS with strong-Wolfe line search by default. Without it (the released
// code) the first full steps can throw the dummy into the saturated range of tanh/softmax, where
// the gradients vanish and L-BFGS stops on its tolerance (on dlg_test's MLP: objective 1.4e-3 ->
// 6.1, image MSE 1657); strong_wolfe(false) restores the released behaviour. A step whose
// objective turns NaN/Inf ends the attack with the last finite iterate and AttackResult::diverged
// set, instead of returning NaN images.
#pragma once

#include "lmlab/privacy/gradient_matching.h"

namespace lmlab::privacy {

struct DlgOptions {
  void validate() const;  // UsageError naming the bad value
  TORCH_ARG(int64_t, iterations) = 300;       // outer L-BFGS steps, >= 1
  TORCH_ARG(double, lr) = 1.0;                // > 0
  TORCH_ARG(int64_t, history) = 100;          // L-BFGS history, >= 1
  TORCH_ARG(int64_t, inner_iterations) = 20;  // L-BFGS max_iter per step, >= 1
  TORCH_ARG(bool, strong_wolfe) = true;       // line search [ours]; false: the released code
};

AttackResult dlg(const Victim& victim, const TensorList& target, const AttackSetup& setup,
                 const DlgOptions& options = {});

}  // namespace lmlab::privacy
