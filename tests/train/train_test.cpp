// The train area (lmlab/train/): the warm-up + cosine schedule against its formula, evaluate_bpb
// against the losses summed by hand, and the trainer's step (loss falls on a repeated batch,
// same seed gives the same model).
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/train/evaluate.h"
#include "lmlab/train/lm_trainer.h"
#include "lmlab/train/lr_schedule.h"

namespace lmlab {
namespace {

TEST(LrSchedule, WarmsUpLinearlyThenDecaysByCosineToATenth) {
  const double peak = 2e-3;
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(peak, 10, 110, true, 1), peak / 10);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(peak, 10, 110, true, 5), peak / 2);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(peak, 10, 110, true, 10), peak);
  EXPECT_NEAR(warmup_cosine_lr(peak, 10, 110, true, 60), peak * 0.55, 1e-15);  // half way: (0.1 + 1) / 2
  EXPECT_NEAR(warmup_cosine_lr(peak, 10, 110, true, 110), peak / 10, 1e-15);
  EXPECT_NEAR(warmup_cosine_lr(peak, 10, 110, true, 500), peak / 10, 1e-15);  // constant after the end
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(peak, 10, 110, false, 60), peak);
  EXPECT_DOUBLE_EQ(warmup_cosine_lr(peak, 0, 100, true, 1), peak * (0.1 + 0.45 * (1 + std::cos(M_PI / 100))));
  LMTrainOptions o;
  o.lr = 1.0, o.warmup = 4, o.steps = 20;
  EXPECT_DOUBLE_EQ(lm_learning_rate(o, 2), 0.5);
}

GPT tiny_gpt() { return GPT(GPTOptions().vocab(256).context(8).layers(1).heads(2).width(16)); }

TextBatcher text(int64_t n, uint64_t seed) {
  torch::Generator g = make_generator(seed);
  return TextBatcher(torch::randint(0, 256, {n}, g, torch::kLong));
}

TEST(EvaluateBpb, IsTheMeanNatsPerTokenOverLn2AndRestoresTrainingMode) {
  seed_everything(1);
  GPT model = tiny_gpt();
  const TextBatcher data = text(2000, 2);
  double nats = 0;
  int64_t tokens = 0;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    for (const TokenBatch& b : data.eval_batches(64, 8)) {
      const LMLoss l = lm_loss(model->forward(b.x), b.y);
      nats += l.total_nats, tokens += l.tokens;
    }
    model->train();
  }
  EXPECT_NEAR(evaluate_bpb(model, data, 0), nats / tokens / std::log(2.0), 1e-9);
  EXPECT_TRUE(model->is_training());
  // Near 8 bits for an untrained model on uniform random bytes.
  EXPECT_NEAR(evaluate_bpb(model, data, 1), 8.0, 0.5);
}

TEST(LMTrainer, LossFallsOnARepeatedBatchAndTheSameSeedGivesTheSameModel) {
  const TextBatcher data = text(4000, 3);
  torch::Generator g = make_generator(4);
  const TokenBatch batch = data.sample(4, 8, g);
  LMTrainOptions o;
  o.lr = 1e-2, o.warmup = 0, o.steps = 30, o.cosine = false;
  seed_everything(5);
  LMTrainer trainer(tiny_gpt(), o, 6);
  const double first = trainer.step(batch);
  double last = first;
  for (int i = 0; i < 29; ++i) last = trainer.step(batch);
  EXPECT_LT(last, 0.5 * first);  // 32 tokens memorised: far below the ~ln 256 = 5.5 nats start
  EXPECT_EQ(trainer.steps_done(), 30);
  EXPECT_EQ(trainer.tokens_seen(), 30 * 4 * 8);

  const auto train_twice = [&] {
    seed_everything(7);
    LMTrainer t(tiny_gpt(), o, 8);
    for (int i = 0; i < 3; ++i) t.step(data);
    return t.model()->parameters();
  };
  const auto a = train_twice(), b = train_twice();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

// A TrainOptimizer that records what the trainer asks of it.
class RecordingOptimizer : public TrainOptimizer {
 public:
  RecordingOptimizer(std::vector<double>& lrs, int& steps, bool adapts) : lrs_(lrs), steps_(steps), adapts_(adapts) {}
  void zero_grad() override {}
  void step() override { ++steps_; }
  void set_lr(double lr) override { lrs_.push_back(lr); }
  bool adapts_lr() const override { return adapts_; }

 private:
  std::vector<double>& lrs_;
  int& steps_;
  bool adapts_;
};

TEST(LMTrainer, StepsTheGivenOptimizerAtTheScheduleUnlessItAdaptsItsOwnLr) {
  const TextBatcher data = text(2000, 3);
  LMTrainOptions o;
  o.lr = 1e-2, o.warmup = 2, o.steps = 4;
  for (const bool adapts : {false, true}) {
    std::vector<double> lrs;
    int steps = 0;
    o.optimizer = [&](const std::vector<torch::Tensor>&) { return std::make_unique<RecordingOptimizer>(lrs, steps, adapts); };
    LMTrainer trainer(tiny_gpt(), o, 1);
    for (int i = 0; i < 4; ++i) trainer.step(data);
    EXPECT_EQ(steps, 4);
    if (adapts) {
      EXPECT_TRUE(lrs.empty());
    } else {
      ASSERT_EQ(lrs.size(), 4u);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(lrs[i], lm_learning_rate(o, i + 1));
    }
  }
}

TEST(LMTrainer, ANonFiniteLossStopsWithTheStepAndTheParameter) {
  const TextBatcher data = text(2000, 3);
  LMTrainOptions o;
  GPT model = tiny_gpt();
  LMTrainer trainer(model, o, 1);
  trainer.step(data);
  const auto last = model->named_parameters().items().back();  // after the attention, which rejects NaN input
  {
    torch::NoGradGuard no_grad;
    last.value().fill_(NAN);
  }
  try {
    trainer.step(data);
    ADD_FAILURE() << "a NaN weight must stop training";
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("at step 2"), std::string::npos) << message;
    EXPECT_NE(message.find("the gradient of "), std::string::npos) << message;
  }
  EXPECT_EQ(trainer.steps_done(), 2);
}

}  // namespace
}  // namespace lmlab
