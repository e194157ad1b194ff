// Reject Accelerating (include/lmlab/optim/reject_accelerating.h).
#include "lmlab/optim/reject_accelerating.h"

#include "lmlab/core/error.h"

namespace lmlab::optim {

void RejectAccelerating::adjust(const Snapshot& s, const TensorList& u) {
  TensorList a, plain;
  for (size_t i = 0; i < u.size(); ++i) {
    LMLAB_CHECK(s.lrs[i] > 0, UsageError, "RejectAccelerating needs a positive learning rate in every parameter "
                "group; got ", s.lrs[i]);
    a.push_back(u[i] / s.lrs[i] - s.grads[i]);
  }
  // No term to reject when the base adds nothing beyond rounding (plain SGD: a = 0 up to rounding).
  if (global_dot(a, a) <= 1e-18 * global_dot(s.grads, s.grads)) return;
  if (global_dot(a, s.grads) >= 0) return;  // the base step stands
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
