// Uses an installed lmlab through its umbrella header: a tiny GPT with NTK-Attention cores, one
// training step, and a packed-kernel call through the dispatch table.
#include <iostream>

#include "lmlab/lmlab.h"

int main() {
  using namespace lmlab;
  seed_everything(1);
  GPT model(GPTOptions().vocab(256).context(8).layers(1).heads(2).width(16).attention(
      ntk_attention::ntk_attention_factory()));
  TextBatcher data(torch::randint(0, 256, {512}, torch::kLong));
  LMTrainOptions options;
  options.batch = 2, options.steps = 1, options.warmup = 0;
  LMTrainer trainer(model, options, 2);
  const double loss = trainer.step(data);
  const auto& kernels = kernels::onebit_kernels();
  std::cout << "consumer: loss " << loss << ", SIMD " << kernels.name << "\n";
  if (!(loss > 0)) return 1;
  std::cout << "consumer: lmlab ok\n";
  return 0;
}
