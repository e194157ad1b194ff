// Inverting Gradients (include/lmlab/privacy/inverting_gradients.h).
#include "lmlab/privacy/inverting_gradients.h"

#include <cmath>

#include "attack_loop.h"
#include "lmlab/core/error.h"

namespace lmlab::privacy {

void InvertingGradientsOptions::validate() const {
  LMLAB_CHECK(iterations_ >= 1, UsageError, "Inverting Gradients iterations must be >= 1; got ", iterations_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "Inverting Gradients lr must be finite and > 0; got ", lr_);
  LMLAB_CHECK(std::isfinite(tv_weight_) && tv_weight_ >= 0, UsageError,
              "Inverting Gradients tv_weight must be finite and >= 0; got ", tv_weight_);
  LMLAB_CHECK(std::isfinite(box_low_) && std::isfinite(box_high_) && box_low_ < box_high_, UsageError,
              "Inverting Gradients box needs finite box_low < box_high; got [", box_low_, ", ", box_high_, "]");
}

AttackResult inverting_gradients(const Victim& victim, const TensorList& target, const AttackSetup& setup,
                                 const InvertingGradientsOptions& options) {
  options.validate();
  detail::AdamLoop loop;
  loop.iterations = options.iterations();
  loop.lr = options.lr();
  loop.distance = GradientDistance::Cosine;
  loop.tv_weight = options.tv_weight();
  loop.signed_gradients = options.signed_gradients();
  if (options.boxed()) loop.box = std::make_pair(options.box_low(), options.box_high());
  return detail::run_adam(victim, target, setup, loop);
}

}  // namespace lmlab::privacy
