// DP-SGD (include/lmlab/privacy/dp_sgd.h).
#include "lmlab/privacy/dp_sgd.h"

#include <cmath>
#include <unordered_map>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/privacy/gradient_noise.h"
#include "lmlab/privacy/per_example_grads.h"

namespace lmlab::privacy {

void DPSGDOptions::validate() const {
  LMLAB_CHECK(std::isfinite(noise_multiplier_) && noise_multiplier_ >= 0, UsageError, "DP-SGD noise multiplier sigma = ",
              noise_multiplier_, " must be finite and >= 0 (0 gives no privacy)");
  LMLAB_CHECK(std::isfinite(max_grad_norm_) && max_grad_norm_ > 0, UsageError, "DP-SGD clipping norm C = ",
              max_grad_norm_, " must be finite and > 0");
  LMLAB_CHECK(std::isfinite(sample_rate_) && sample_rate_ > 0 && sample_rate_ <= 1, UsageError,
              "DP-SGD sampling rate q = ", sample_rate_, " is outside (0, 1]; use expected batch / dataset size");
  LMLAB_CHECK(dataset_size_ >= 1, UsageError, "DP-SGD dataset size N = ", dataset_size_, " must be >= 1");
}

std::vector<torch::Tensor> clipped_sum(const std::vector<torch::Tensor>& per_example, const torch::Tensor& norms,
                                       double max_grad_norm) {
  LMLAB_CHECK(std::isfinite(max_grad_norm) && max_grad_norm > 0, UsageError, "clipping norm C = ", max_grad_norm,
              " must be finite and > 0");
  const torch::Tensor factor = (max_grad_norm / (norms + 1e-6)).clamp_max(1.0);
  std::vector<torch::Tensor> out;
  out.reserve(per_example.size());
  for (const auto& g : per_example) {
    const auto shape = g.sizes().slice(1);
    out.push_back(factor.to(g.dtype()).matmul(g.reshape({g.size(0), -1})).reshape(shape));
  }
  return out;
}

DPSGD::DPSGD(std::vector<std::string> names, std::vector<torch::Tensor> params, std::function<void()> base_step,
             DPSGDOptions options)
    : base_step_(std::move(base_step)), options_(std::move(options)),
      sampling_(make_generator(derive_seed(options_.seed(), "dp-sgd-sampling"))),
      noise_(make_generator(derive_seed(options_.seed(), "dp-sgd-noise"))) {
  options_.validate();
  LMLAB_CHECK(names.size() == params.size(), UsageError, "DP-SGD: ", names.size(), " names for ", params.size(),
              " parameters");
  for (size_t k = 0; k < params.size(); ++k)
    if (params[k].requires_grad()) {
      names_.push_back(names[k]);
      params_.push_back(params[k]);
    }
  LMLAB_CHECK(!params_.empty(), UsageError, "DP-SGD: the model has no trainable parameter");
  if (const auto& group = data_parallel_group(); group != nullptr && group->size() > 1) group_ = group;
  // The per-example gradients [B, P] and their clipped copy, at the expected batch B = q N.
  double parameters = 0;
  for (const auto& p : params_) parameters += double(p.numel());
  const double batch = options_.sample_rate() * double(options_.dataset_size());
  check_memory("DP-SGD's per-example gradients of " + std::to_string(std::llround(batch)) + " examples (q N)",
               8.0 * batch * parameters, "lower the sampling rate q (the expected batch) or the model size");
  // sample_batch draws one float64 a dataset example, and a mask.
  check_memory("DP-SGD's Poisson sampling over N = " + std::to_string(options_.dataset_size()) + " examples",
               9.0 * double(options_.dataset_size()), "lower the dataset size N");
}

namespace {
std::vector<std::string> parameter_names(torch::nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& item : m.named_parameters()) names.push_back(item.key());
  return names;
}
}  // namespace

DPSGD::DPSGD(torch::nn::Module& model, std::function<void()> base_step, DPSGDOptions options)
    : DPSGD(parameter_names(model), model.parameters(), std::move(base_step), std::move(options)) {}

DPSGD::DPSGD(torch::nn::Module& model, torch::optim::Optimizer& optimizer, DPSGDOptions options)
    : DPSGD(model, [&optimizer] { optimizer.step(); }, std::move(options)) {}

DPSGD::DPSGD(torch::nn::Module& model, optim::StepWrapper& optimizer, DPSGDOptions options)
    : DPSGD(model, [&optimizer] { optimizer.step(); }, std::move(options)) {}

DPSGD::DPSGD(torch::nn::Module& model, optim::LrAdapter& optimizer, DPSGDOptions options)
    : DPSGD(model, [&optimizer] { optimizer.step(); }, std::move(options)) {}

torch::Tensor DPSGD::sample_batch() {
  const torch::Tensor all =
      (torch::rand({options_.dataset_size()}, sampling_, torch::kDouble) < options_.sample_rate()).nonzero().reshape(-1);
  if (!group_) return all;
  const DataParallelGroup::Shard s = group_->shard(all.size(0));
  return all.slice(0, s.first, s.last);
}

DPStepStats DPSGD::step(const torch::Tensor& losses) {
  const int64_t step_no = steps_ + 1;
  DPStepStats stats;
  std::unordered_map<c10::TensorImpl*, torch::Tensor> sums;
  LMLAB_CHECK(!losses.defined() || (losses.dim() == 1 && losses.is_floating_point()), UsageError, "DP-SGD step ",
              step_no, " needs per-example losses [B] (one loss per example, not their mean); got ",
              losses.scalar_type(), " ", losses.sizes());
  if (losses.defined() && losses.numel() > 0) {
    LMLAB_CHECK(torch::isfinite(losses.detach()).all().item<bool>(), DataError, "DP-SGD step ", step_no,
                ": a per-example loss is NaN or infinite (example ",
                torch::isfinite(losses.detach()).logical_not().nonzero()[0].item<int64_t>(),
                "); lower the learning rate or check the inputs. The parameters were not changed");
    const PerExampleGrads pe = per_example_gradients(names_, params_, losses);
    const torch::Tensor norms = per_example_norms(pe);
    if (!torch::isfinite(norms).all().item<bool>()) {
      const int64_t i = torch::isfinite(norms).logical_not().nonzero()[0].item<int64_t>();
      std::string name;
      for (size_t k = 0; k < pe.grads.size() && name.empty(); ++k)
        if (!torch::isfinite(pe.grads[k][i]).all().item<bool>()) name = pe.names[k];
      throw DataError(detail::concat("DP-SGD step ", step_no, ": the gradient of example ", i, " is NaN or infinite in parameter '",
                                     name, "'; lower the learning rate or check the inputs. The parameters were not changed"));
    }
    const std::vector<torch::Tensor> summed = clipped_sum(pe.grads, norms, options_.max_grad_norm());
    for (size_t k = 0; k < pe.params.size(); ++k) sums[pe.params[k].unsafeGetTensorImpl()] = summed[k];
    stats.batch = pe.batch;
    stats.mean_norm = norms.mean().item<double>();
    stats.clipped_fraction = (norms > options_.max_grad_norm()).to(torch::kDouble).mean().item<double>();
  }
  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> summed;
    for (auto& p : params_) {
      auto it = sums.find(p.unsafeGetTensorImpl());
      summed.push_back(it == sums.end() ? torch::zeros_like(p) : it->second);
    }
    if (group_) {  // the global clipped sum and statistics, in one allreduce each
      torch::Tensor flat = at::flatten_dense_tensors(summed);
      group_->allreduce_sum(flat);
      summed = at::unflatten_dense_tensors(flat, summed);
      torch::Tensor counts = torch::tensor({static_cast<double>(stats.batch), stats.mean_norm * stats.batch,
                                            stats.clipped_fraction * stats.batch}, torch::kDouble);
      group_->allreduce_sum(counts);
      stats.batch = static_cast<int64_t>(counts[0].item<double>());
      stats.mean_norm = stats.batch > 0 ? counts[1].item<double>() / stats.batch : 0;
      stats.clipped_fraction = stats.batch > 0 ? counts[2].item<double>() / stats.batch : 0;
    }
    const double std = options_.noise_multiplier() * options_.max_grad_norm();
    const double expected = options_.sample_rate() * static_cast<double>(options_.dataset_size());
    for (size_t k = 0; k < params_.size(); ++k) params_[k].mutable_grad() = add_gaussian_noise(summed[k], std, noise_) / expected;
  }
  base_step_();
  steps_ = step_no;
  return stats;
}

PrivacySpent DPSGD::spent(double delta, const AccountantOptions& accounting) const {
  LMLAB_CHECK(options_.noise_multiplier() > 0, UsageError,
              "DP-SGD with noise multiplier 0 has no finite epsilon; use sigma > 0");
  LMLAB_CHECK(steps_ >= 1, UsageError, "DP-SGD has taken no step yet");
  return dp_sgd_epsilon(options_.noise_multiplier(), options_.sample_rate(), steps_, delta, accounting);
}

}  // namespace lmlab::privacy
