// Training the in-context learner with a curriculum (include/lmlab/icl/learner_training.h).
#include "lmlab/icl/learner_training.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/train/step_memory.h"
#include "icl/divergence.h"

namespace lmlab::icl {

void LearnerTrainingOptions::validate(const InContextLearnerOptions& learner) const {
  learner.validate();
  LMLAB_CHECK(steps_ >= 1 && batch_ >= 1, UsageError, "learner training: steps and batch must be >= 1; got ", steps_,
              " and ", batch_);
  LMLAB_CHECK(std::isfinite(lr_) && lr_ > 0, UsageError, "learner training: lr must be finite and > 0; got ", lr_);
  LMLAB_CHECK(std::isfinite(noise_std_) && noise_std_ >= 0, UsageError,
              "learner training: noise_std must be finite and >= 0; got ", noise_std_);
  const auto& c = curriculum_;
  LMLAB_CHECK(c.dim_start() >= 0 && c.dim_start() <= learner.dim(), UsageError, "curriculum dim_start must be in [0, d = ",
              learner.dim(), "] (0 = d); got ", c.dim_start());
  LMLAB_CHECK(c.points_start() >= 0 && c.points_start() <= learner.points(), UsageError,
              "curriculum points_start must be in [0, N = ", learner.points(), "] (0 = N); got ", c.points_start());
  LMLAB_CHECK(c.dim_step() >= 0 && c.points_step() >= 0 && c.interval() >= 1, UsageError,
              "curriculum steps must be >= 0 and interval >= 1; got dim_step ", c.dim_step(), ", points_step ",
              c.points_step(), ", interval ", c.interval());
}

std::string LearnerTrainingOptions::describe() const {
  std::ostringstream os;
  os.precision(17);
  os << "steps=" << steps_ << " batch=" << batch_ << " lr=" << lr_ << " noise_std=" << noise_std_
     << " curriculum=" << curriculum_.dim_start() << "+" << curriculum_.dim_step() << "," << curriculum_.points_start()
     << "+" << curriculum_.points_step() << "/" << curriculum_.interval();
  return os.str();
}

double learner_step_bytes(InContextLearner& learner, int64_t batch) {
  const InContextLearnerOptions& o = learner->options();
  const int64_t tokens = 2 * o.points() - 1;
  const double token =
      transformer_token_floats(*learner, o.layers(), o.width(), o.mlp_ratio(), o.heads(), tokens) + double(o.dim());
  return step_bytes(*learner, batch, double(tokens) * token);
}

std::pair<int64_t, int64_t> curriculum_at(const CurriculumOptions& c, const InContextLearnerOptions& learner, int64_t step) {
  const int64_t grown = step / c.interval();
  const auto at = [grown](int64_t start, int64_t inc, int64_t end) {
    return start == 0 ? end : std::min(end, start + grown * inc);
  };
  return {at(c.dim_start(), c.dim_step(), learner.dim()), at(c.points_start(), c.points_step(), learner.points())};
}

std::vector<double> train_learner(InContextLearner& learner, const LearnerTrainingOptions& options, uint64_t seed,
                                  const std::function<void(int64_t, double)>& on_step) {
  const auto& lo = learner->options();
  options.validate(lo);
  check_step_memory("the in-context learner", options.batch(), learner_step_bytes(learner, options.batch()),
                    "lower the training batch, points or the learner's width and layers");
  torch::Generator gen = make_generator(seed);
  torch::optim::Adam adam(learner->parameters(), torch::optim::AdamOptions(options.lr()));
  learner->train();
  std::vector<double> losses;
  losses.reserve(static_cast<size_t>(options.steps()));
  for (int64_t step = 0; step < options.steps(); ++step) {
    const auto [dim, points] = curriculum_at(options.curriculum(), lo, step);
    const Prompts p = regression_prompts(
        RegressionPromptOptions(lo.dim(), points).noise_std(options.noise_std()).active_dim(dim), options.batch(), gen);
    const auto loss = detail::guard_divergence("learner training", step, options.lr(), [&] {
      return (learner->forward(p.xs, p.ys) - p.ys).pow(2).mean() / static_cast<double>(dim);
    });
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw detail::diverged("learner training", step, "loss " + std::to_string(value), options.lr());
    detail::guard_divergence("learner training", step, options.lr(), [&] {
      adam.zero_grad();
      loss.backward();
      adam.step();
      return 0;
    });
    losses.push_back(value);
    if (on_step) on_step(step, value);
  }
  learner->eval();
  return losses;
}

}  // namespace lmlab::icl
