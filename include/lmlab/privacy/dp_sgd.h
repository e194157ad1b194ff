// DP-SGD (Abadi et al. 2016, arXiv 1607.00133, Algorithm 1; the DP defense P6, arXiv 2311.13624,
// costs out): on a Poisson-sampled batch L (each of the N examples kept with probability q),
//   g_i   = d l_i / d theta                       per-example gradients (per_example_grads.h)
//   g~_i  = g_i min(1, C / (||g_i|| + 1e-6))      clipping to total L2 norm C (Opacus's 1e-6)
//   g^    = (sum_{i in L} g~_i + N(0, sigma^2 C^2 I)) / (q N)
// then any optimizer steps on g^ (it is written into every trainable parameter's .grad). Dividing
// by the expected batch size q N rather than |L| keeps the sensitivity fixed (as Opacus does for
// Poisson sampling). An empty sample still takes a step on the noise alone. Each step adds one
// subsampled-Gaussian step to an RDP accountant (rdp_accountant.h).
// Deviation: noise is added to every trainable parameter of the module, including ones the batch
// did not reach (their gradient is then noise alone), as the algorithm states it on the full theta.
//
// Data-parallel (data_parallel_group(), lmlab run --data-parallel): every rank draws the same
// global sample L and takes its share of it (sample_batch); the clipped sums are summed across
// ranks, and the noise is drawn once per global step: from the same stream on every rank, so each
// adds the same draw to the same global sum. The accountant sees the global rate q; W ranks take
// the steps of one process, up to the order of the float sums.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "lmlab/optim/lr_adapter.h"
#include "lmlab/optim/step_wrapper.h"
#include "lmlab/privacy/rdp_accountant.h"
#include "lmlab/train/data_parallel.h"

namespace lmlab::privacy {

struct DPSGDOptions {
  DPSGDOptions(double noise_multiplier, double max_grad_norm, double sample_rate, int64_t dataset_size)
      : noise_multiplier_(noise_multiplier), max_grad_norm_(max_grad_norm), sample_rate_(sample_rate),
        dataset_size_(dataset_size) {}
  // UsageError naming the offending value.
  void validate() const;
  TORCH_ARG(double, noise_multiplier);  // sigma >= 0 (0: clipping only, no privacy)
  TORCH_ARG(double, max_grad_norm);     // C > 0
  TORCH_ARG(double, sample_rate);       // q in (0, 1]
  TORCH_ARG(int64_t, dataset_size);     // N >= 1
  TORCH_ARG(uint64_t, seed) = 0;        // the sampling and noise streams
};

struct DPStepStats {
  int64_t batch = 0;             // |L|
  double mean_norm = 0;          // mean ||g_i|| before clipping (0 for an empty batch)
  double clipped_fraction = 0;   // fraction of examples with ||g_i|| > C
};

class DPSGD {
 public:
  DPSGD(torch::nn::Module& model, torch::optim::Optimizer& optimizer, DPSGDOptions options);
  // lmlab's optimizer plug-ins (lmlab/optim/) over their base optimizer.
  DPSGD(torch::nn::Module& model, optim::StepWrapper& optimizer, DPSGDOptions options);
  DPSGD(torch::nn::Module& model, optim::LrAdapter& optimizer, DPSGDOptions options);
  // Anything else that steps on the parameters' .grad.
  DPSGD(torch::nn::Module& model, std::function<void()> base_step, DPSGDOptions options);
  // Named tensors instead of a module (a Python torch.nn.Module's named_parameters()).
  DPSGD(std::vector<std::string> names, std::vector<torch::Tensor> params, std::function<void()> base_step,
        DPSGDOptions options);

  // The next Poisson sample: indices into [0, N) as int64 [|L|], possibly empty; data-parallel,
  // this rank's share of the global sample.
  torch::Tensor sample_batch();

  // One private step. `losses` [|L|]: the per-example losses of the sampled batch (not their mean;
  // data-parallel, of this rank's share);
  // undefined or empty for an empty sample. DataError naming the step, the example and the
  // parameter when a per-example gradient is NaN or infinite; nothing is changed then.
  DPStepStats step(const torch::Tensor& losses);

  // (epsilon, best order) spent so far. UsageError when sigma is 0 (no privacy to account).
  PrivacySpent spent(double delta, const AccountantOptions& accounting = {}) const;
  int64_t steps() const { return steps_; }
  const DPSGDOptions& options() const { return options_; }

 private:
  std::vector<std::string> names_;
  std::vector<torch::Tensor> params_;  // the trainable ones
  std::function<void()> base_step_;
  DPSGDOptions options_;
  torch::Generator sampling_, noise_;
  int64_t steps_ = 0;
  std::shared_ptr<DataParallelGroup> group_;  // null in one process
};

// sum_i min(1, C / (||g_i|| + 1e-6)) g_i per parameter, for per-example gradients G [B, *P] with
// total norms `norms` [B]: the clipped sum DP-SGD adds noise to.
std::vector<torch::Tensor> clipped_sum(const std::vector<torch::Tensor>& per_example, const torch::Tensor& norms,
                                       double max_grad_norm);

}  // namespace lmlab::privacy
