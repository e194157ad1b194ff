// TAG (include/lmlab/privacy/tag.h).
#include "lmlab/privacy/tag.h"

#include <cmath>

#include "attack_loop.h"
#include "lmlab/core/error.h"

namespace lmlab::privacy {

void TagOptions::validate() const {
  LMLAB_CHECK(iterations_ >= 1, UsageError, "TAG iterations must be >= 1; got ", iterations_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "TAG lr must be finite and > 0; got ", lr_);
  LMLAB_CHECK(std::isfinite(alpha_) && alpha_ >= 0, UsageError, "TAG alpha must be finite and >= 0; got ", alpha_);
  LMLAB_CHECK(std::isfinite(clip_norm_) && clip_norm_ >= 0, UsageError,
              "TAG clip_norm must be finite and >= 0 (0: no clipping); got ", clip_norm_);
}

AttackResult tag(const Victim& victim, const TensorList& target, const AttackSetup& setup, const TagOptions& options) {
  options.validate();
  LMLAB_CHECK(setup.input_shape().size() == 3, UsageError, "TAG searches token embeddings [B,T,C]; got input shape ",
              c10::IntArrayRef(setup.input_shape()));
  detail::AdamLoop loop;
  loop.iterations = options.iterations();
  loop.lr = options.lr();
  loop.distance = GradientDistance::SquaredL2PlusL1;
  loop.alpha = options.alpha();
  loop.clip_norm = options.clip_norm();
  return detail::run_adam(victim, target, setup, loop);
}

}  // namespace lmlab::privacy
