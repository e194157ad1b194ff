// Reject Accelerating (include/lmlab/optim/reject_accelerating.h).
#include "lmlab/optim/reject_accelerating.h"

#include "lmlab/core/error.h"

namespace lmlab::optim {

void RejectAccelerating::adjust(const Snapshot& s, const TensorList& u) {
  // a_i = u_i / lr_i - g_i, formed as lr_i a_i = u_i - lr_i g_i (one pass) with the dots rescaled.
  double aa = 0, ag = 0, gg = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const double lr = s.lrs[i];
    LMLAB_CHECK(lr > 0, UsageError, "RejectAccelerating needs a positive learning rate in every parameter group; "
                "got ", lr);
    const TensorList scaled_a{torch::add(u[i], s.grads[i], -lr)}, g{s.grads[i]};
    aa += global_dot(scaled_a, scaled_a) / (lr * lr);
    ag += global_dot(scaled_a, g) / lr;
    gg += global_dot(g, g);
  }
  // No term to reject when the base adds nothing beyond rounding (plain SGD: a = 0 up to rounding).
  if (aa <= 1e-18 * gg) return;
  if (ag >= 0) return;  // the base step stands
  TensorList plain;
  ++rejected_;
  for (size_t i = 0; i < u.size(); ++i) plain.push_back(s.lrs[i] * s.grads[i]);
  take_step(s, plain);
}

void RejectAccelerating::save(torch::serialize::OutputArchive& archive) const {
  StepWrapper::save(archive);
  archive.write("rejected", torch::tensor(rejected_));
}

void RejectAccelerating::load(torch::serialize::InputArchive& archive) {
  StepWrapper::load(archive);
  torch::Tensor t;
  archive.read("rejected", t);
  rejected_ = t.item<int64_t>();
}

}  // namespace lmlab::optim
