// foundation.fmnist_mlp: MLP on Fashion-MNIST, the image half of the pipeline check.
//
// x [B,784] (pixels in [0,1]) -> MLP(hidden, activation) -> logits [B,10], cross-entropy, Adam
// (or the optimizer of the [optim] section, experiments/common/optim.toml).
// 5,000 training images are held out for the learning curves; the 10,000 test images are used once,
// at the end. Claim (issue "foundation"): quick mode reaches >= 85% test accuracy, a level any
// reasonable MLP passes on Fashion-MNIST, so a failure means a broken pipe.
#include "common/optim_config.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/fashion_mnist.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/parameters.h"
#include "lmlab/models/weights.h"
#include "lmlab/train/finite_check.h"
#include "lmlab/train/step_memory.h"
#include "registry.h"

namespace lmlab {
namespace {

struct Eval {
  double loss, accuracy;
  torch::Tensor predictions;  // [N] int64
};

Eval evaluate(MLP& model, const ImageDataset& ds) {
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor logits = model->forward(ds.images.flatten(1));
  model->train();
  const torch::Tensor pred = logits.argmax(1);
  return {torch::cross_entropy_loss(logits, ds.labels).item<double>(),
          pred.eq(ds.labels).to(torch::kDouble).mean().item<double>(), pred};
}

// Up to `n` misclassified test images, labelled "predicted (true)".
ImageGrid misclassified(const ImageDataset& test, const torch::Tensor& pred, int64_t n) {
  const torch::Tensor wrong = pred.ne(test.labels).nonzero().flatten().slice(0, 0, n);
  ImageGrid grid{"Misclassified test images: predicted (true)", test.images.index_select(0, wrong).squeeze(1), 8, {}};
  for (int64_t i = 0; i < wrong.size(0); ++i) {
    const int64_t j = wrong[i].item<int64_t>();
    grid.labels.push_back(std::string(kFashionMnistClassNames[pred[j].item<int64_t>()]) + " (" +
                          std::string(kFashionMnistClassNames[test.labels[j].item<int64_t>()]) + ")");
  }
  return grid;
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const auto optim_options =
      plugged_optimizer_options(cfg, "adam", cfg.get_float("train.lr"), 0.0, derive_seed(ctx.seed(), "optim"));
  const ImageDataset all = load_fashion_mnist(ImageSplit::Train);
  const int64_t validation = cfg.get_int("validation");
  LMLAB_CHECK(validation >= 1 && validation < all.size(), UsageError, "validation must be from 1 to ",
              all.size() - 1, " so that both the validation and the training set hold images; got ", validation);
  const HoldoutSplit split = split_off(all, validation, derive_seed(ctx.seed(), "holdout"));
  const ImageDataset test = load_fashion_mnist(ImageSplit::Test);
  const ImageDataset& train = split.train;
  ctx.log("train " + std::to_string(train.size()) + ", validation " + std::to_string(split.holdout.size()) +
          ", test " + std::to_string(test.size()) + " images");

  seed_everything(derive_seed(ctx.seed(), "init"));
  MLP model(MLPOptions(28 * 28, cfg.get_int_list("hidden"), kFashionMnistClasses)
                .activation(activation_from_name(cfg.get_string("activation"))));
  optim::PluggedOptimizer opt(model->parameters(), optim_options);
  const int64_t epochs = cfg.get_int("train.epochs"), batch = cfg.get_int("train.batch");
  LMLAB_CHECK(epochs >= 1 && batch >= 1, UsageError, "train.epochs and train.batch must be >= 1");
  check_step_memory("the MLP", batch, step_bytes(model, batch), "lower train.batch or hidden");
  const int64_t batches = (train.size() + batch - 1) / batch;
  torch::Generator gen = make_generator(derive_seed(ctx.seed(), "shuffle"));
  const torch::Tensor x_all = train.images.flatten(1);

  std::vector<double> epoch_axis, train_loss, val_loss, val_acc;
  Progress bar("train", epochs * batches, ctx.log_sink());
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    const torch::Tensor order = torch::randperm(train.size(), gen, torch::kLong);
    double sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const torch::Tensor idx = order.slice(0, b * batch, (b + 1) * batch);
      const torch::Tensor loss =
          torch::cross_entropy_loss(model->forward(x_all.index_select(0, idx)), train.labels.index_select(0, idx));
      opt.zero_grad();
      loss.backward();
      const double value = loss.item<double>();
      check_finite_loss(value, *model, (epoch - 1) * batches + b + 1, "lower train.lr");
      opt.step();
      sum += value * idx.size(0);
      bar.advance(1, "epoch " + std::to_string(epoch));
    }
    const Eval val = evaluate(model, split.holdout);
    epoch_axis.push_back(epoch);
    train_loss.push_back(sum / train.size());
    val_loss.push_back(val.loss);
    val_acc.push_back(val.accuracy);
    ctx.metric({{"epoch", epoch}, {"train_loss", train_loss.back()}, {"val_loss", val.loss}, {"val_accuracy", val.accuracy}});
  }
  bar.finish();

  const Eval final_test = evaluate(model, test);
  ctx.log("test accuracy " + std::to_string(final_test.accuracy));
  save_weights(*model, ctx.path("model.pt"), "foundation.fmnist_mlp");
  ctx.result("test_accuracy", final_test.accuracy);
  ctx.result("test_loss", final_test.loss);
  ctx.result("train_loss", FloatList(train_loss));
  ctx.result("val_loss", FloatList(val_loss));
  ctx.result("val_accuracy", FloatList(val_acc));
  ctx.result("parameters", count_parameters(*model));

  ctx.plot(LinePlot("Fashion-MNIST MLP: loss", "epoch", "cross-entropy (nats)").with(
                    {{"train", epoch_axis, train_loss, {}}, {"validation", epoch_axis, val_loss, {}}}),
           "loss");
  ctx.plot(LinePlot("Fashion-MNIST MLP: validation accuracy", "epoch", "accuracy").with(
                    {{"validation", epoch_axis, val_acc, {}}}),
           "accuracy");
  ctx.plot(misclassified(test, final_test.predictions, 24), "misclassified");
  ctx.claim(make_claim("test_accuracy", "an MLP reaches at least 85% test accuracy on Fashion-MNIST",
                       final_test.accuracy, Comparator::GreaterEqual, 0.85).shown_in("accuracy"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(foundation, fmnist_mlp, run,
                        ExperimentInfo("foundation (no paper)",
                                       "MLP classifier on Fashion-MNIST, learning curves")
                            .section("optim")
                            .quick_seconds(5))

}  // namespace lmlab
