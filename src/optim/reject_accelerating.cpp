// Reject Accelerating (include/lmlab/optim/reject_accelerating.h).
#include "lmlab/optim/reject_accelerating.h"

#include <cmath>
#include <limits>

#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"

namespace lmlab::optim {
namespace {

double machine_epsilon(torch::ScalarType type) {
  switch (type) {
    case torch::kDouble: return std::numeric_limits<double>::epsilon();
    case torch::kHalf: return 9.765625e-4;
    case torch::kBFloat16: return 7.8125e-3;
    default: return std::numeric_limits<float>::epsilon();
  }
}

}  // namespace

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
  if (ag >= 0) return;  // the base step stands
  // No term to reject when the base adds nothing beyond rounding (plain SGD: a = 0 up to rounding).
  // The observed step u = before - after carries the parameters' rounding, up to a few eps ||before||
  // per tensor, which for large weights and a small lr g is far above ||lr g|| eps.
  double rounding = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    rounding += std::pow(4 * machine_epsilon(s.before[i].scalar_type()) * s.before[i].norm().item<double>() / s.lrs[i], 2);
  }
  if (aa <= 1e-18 * gg || aa <= rounding) return;
  TensorList plain;
  ++rejected_;
  for (size_t i = 0; i < u.size(); ++i) plain.push_back(s.lrs[i] * s.grads[i]);
  take_step(s, plain);
}

void RejectAccelerating::fused_step(MomentumStep& m) {
  m.update();
  // The direction per unit lr is b exactly, so a = b - g carries no rounding of an observed step.
  const auto d = m.dots();
  const double ag = d.g_buffer - d.g_g, aa = d.buffer_buffer - 2 * d.g_buffer + d.g_g;
  if (ag < 0 && aa > 1e-18 * d.g_g) {
    ++rejected_;
    m.gradient();
  } else {
    m.along();
  }
}

void RejectAccelerating::save(torch::serialize::OutputArchive& archive) const {
  StepWrapper::save(archive);
  archive.write("rejected", torch::tensor(rejected_));
}

void RejectAccelerating::load(torch::serialize::InputArchive& archive) {
  const int64_t rejected = read_archive_count(archive, "rejected", "optimizer state");
  StepWrapper::load(archive);
  rejected_ = rejected;
}

}  // namespace lmlab::optim
