// The shared learner set-up of the icl.* experiments (experiments/icl/learner_setup.h).
#include "icl/learner_setup.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/icl/checkpoint.h"

namespace lmlab {

ScopedThreads::ScopedThreads(int64_t threads) : saved_(torch::get_num_threads()) {
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
}
ScopedThreads::~ScopedThreads() { torch::set_num_threads(saved_); }

std::string LearnerSetup::key() const {
  return learner.describe() + " | " + training.describe() + " | seed=" + std::to_string(seed) +
         " threads=" + std::to_string(threads);
}

LearnerSetup read_learner_setup(const Config& cfg, uint64_t run_seed) {
  LearnerSetup s;
  s.learner = icl::InContextLearnerOptions(cfg.get_int("dim"), cfg.get_int("points"))
                  .layers(cfg.get_int("learner.layers"))
                  .heads(cfg.get_int("learner.heads"))
                  .width(cfg.get_int("learner.width"))
                  .mlp_ratio(cfg.get_int("learner.mlp_ratio"));
  s.learner.validate();
  LMLAB_CHECK(s.learner.dim() <= 256 && s.learner.points() <= 512 && s.learner.width() <= 1024 && s.learner.layers() <= 24,
              UsageError, "dim <= 256, points <= 512, learner.width <= 1024 and learner.layers <= 24 are the sizes this "
              "CPU workbench runs; got ", s.learner.describe());
  const auto curriculum = icl::CurriculumOptions()
                              .dim_start(cfg.get_int("training.curriculum.dim_start"))
                              .dim_step(cfg.get_int("training.curriculum.dim_step"))
                              .points_start(cfg.get_int("training.curriculum.points_start"))
                              .points_step(cfg.get_int("training.curriculum.points_step"))
                              .interval(cfg.get_int("training.curriculum.interval"));
  s.training = icl::LearnerTrainingOptions()
                   .steps(cfg.get_int("training.steps"))
                   .batch(cfg.get_int("training.batch"))
                   .lr(cfg.get_float("training.lr"))
                   .noise_std(cfg.get_float("noise_std"))
                   .curriculum(curriculum);
  s.training.validate(s.learner);
  s.seed = derive_seed(run_seed, "icl-learner-training");
  s.checkpoint = cfg.get_string("learner.checkpoint");
  s.cache_dir = cfg.get_string("learner.cache_dir");
  s.threads = cfg.get_int("learner.threads");
  LMLAB_CHECK(s.threads >= 0 && s.threads <= 1024, UsageError, "learner.threads must be in [0, 1024] (0 = the run's); got ",
              s.threads);
  return s;
}

icl::InContextLearner obtain_learner(RunContext& ctx, const LearnerSetup& setup) {
  if (!setup.checkpoint.empty()) {
    ctx.log("learner: loaded from learner.checkpoint " + setup.checkpoint);
    return icl::load_learner(setup.checkpoint, setup.learner);
  }
  const std::string cached = setup.cache_dir.empty() ? "" : icl::checkpoint_path(setup.cache_dir, setup.key());
  if (!cached.empty() && std::filesystem::exists(cached)) {
    ctx.log("learner: reused the cached checkpoint " + cached + " (" + setup.key() + ")");
    return icl::load_learner(cached, setup.learner);
  }
  if (!cached.empty()) {  // before training, so a finished training is never lost to an unwritable directory
    std::error_code ec;
    std::filesystem::create_directories(setup.cache_dir, ec);
    LMLAB_CHECK(!ec, DataError, "cannot create learner.cache_dir '", setup.cache_dir, "' (", ec.message(),
                "); set learner.cache_dir to a writable directory or to \"\" to not cache");
  }
  ctx.log("learner: training " + setup.learner.describe() + " (" + setup.training.describe() + ")");
  seed_everything(derive_seed(setup.seed, "init"));
  icl::InContextLearner learner(setup.learner);
  const int64_t steps = setup.training.steps(), every = std::max<int64_t>(1, steps / 100);
  Progress bar("learner training", steps, ctx.log_sink());
  std::vector<double> at, mean_loss;
  double window = 0;
  icl::train_learner(learner, setup.training, setup.seed, [&](int64_t step, double loss) {
    window += loss;
    bar.advance(1);
    if ((step + 1) % every == 0) {
      at.push_back(static_cast<double>(step + 1));
      mean_loss.push_back(window / static_cast<double>(every));
      ctx.metric({{"training_step", step + 1}, {"training_loss", mean_loss.back()}});
      window = 0;
    }
  });
  bar.finish();
  ctx.plot(LinePlot("In-context learner training (loss / d, mean over " + std::to_string(every) + " steps)", "step",
                    "squared error / d")
               .log_y()
               .with({Series{"training loss", at, mean_loss, {}}}),
           "training_loss");
  if (!cached.empty()) {
    icl::save_learner(learner, cached);
    ctx.log("learner: cached as " + cached);
  }
  return learner;
}

}  // namespace lmlab
