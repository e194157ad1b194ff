// Bits per byte on held-out text (include/lmlab/train/evaluate.h).
#include "lmlab/train/evaluate.h"

#include <cmath>

namespace lmlab {

double evaluate_bpb(GPT& model, const TextBatcher& data, int64_t max_batches) {
  torch::NoGradGuard no_grad;
  model->eval();
  double nats = 0;
  int64_t tokens = 0, n = 0;
  for (const TokenBatch& b : data.eval_batches(64, model->options().context())) {
    if (max_batches > 0 && n++ == max_batches) break;
    const LMLoss l = lm_loss(model->forward(b.x), b.y);
    nats += l.total_nats;
    tokens += l.tokens;
  }
  model->train();
  return nats / tokens / std::log(2.0);
}

}  // namespace lmlab
