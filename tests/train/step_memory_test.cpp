// Training-step memory estimates (lmlab/train/step_memory.h) against the peak of tensor memory in
// one real step (gradients, Adam's moments, the activations), measured through LibTorch's CPU
// allocator: within a factor 2 both ways for the GPT (with and without the attention map), the ViT
// and the MLP; and the LMTrainer refuses a step above the memory limit before allocating it.
#include <gtest/gtest.h>

#include <functional>

#include "support/step_memory.h"
#include "lmlab/core/seed.h"
#include "lmlab/models/attention.h"
#include "lmlab/train/lm_trainer.h"
#include "lmlab/train/step_memory.h"

namespace lmlab {
namespace {

using test_support::expect_estimate_holds;
using test_support::expect_refused;

// Without the map SoftmaxAttention runs flash attention; recording it at T = 256 makes the 2 H T
// term half the estimate.
TEST(StepMemory, GPTStepEstimateHoldsAndIsEnforced) {
  for (bool map : {false, true}) {
    seed_everything(3);
    GPT model(GPTOptions().context(256).layers(2).heads(4).width(64));
    for (const auto& m : model->modules(false))
      if (auto* core = dynamic_cast<SoftmaxAttention*>(m.get())) core->record_probabilities(map);
    LMTrainOptions options;
    options.batch = 8;
    const double estimate = step_bytes(model, options.batch);
    LMTrainer trainer(model, options, 1);
    torch::Generator g = make_generator(2);
    const TextBatcher data(torch::randint(0, 256, {4096}, g, torch::kLong));
    expect_estimate_holds(estimate, [&] { trainer.step(data); }, map ? "GPT with map" : "GPT");
    expect_refused(estimate, [&] { LMTrainer(model, options, 1); });
  }
}

// One Adam step of cross-entropy on `x` through `forward`.
std::function<void()> adam_step(torch::nn::Module& model, const std::function<torch::Tensor()>& logits,
                                const torch::Tensor& labels) {
  auto adam = std::make_shared<torch::optim::Adam>(model.parameters(), torch::optim::AdamOptions(1e-3));
  return [adam, logits, labels] {
    const auto loss = torch::cross_entropy_loss(logits(), labels);
    adam->zero_grad();
    loss.backward();
    adam->step();
  };
}

TEST(StepMemory, ViTAndMLPStepEstimatesHold) {
  seed_everything(4);
  const int64_t batch = 64;
  const torch::Tensor labels = torch::randint(0, 10, {batch}, torch::kLong);
  ViT vit(ViTOptions().image(28).patch(4).layers(2).heads(4).width(64).classes(10));
  const torch::Tensor images = torch::rand({batch, 1, 28, 28});
  expect_estimate_holds(step_bytes(vit, batch), adam_step(*vit, [&] { return vit->forward(images); }, labels), "ViT");
  MLP mlp(MLPOptions(784, {512, 256}, 10));
  const torch::Tensor x = torch::rand({batch, 784});
  expect_estimate_holds(step_bytes(mlp, batch), adam_step(*mlp, [&] { return mlp->forward(x); }, labels), "MLP");
}

}  // namespace
}  // namespace lmlab
