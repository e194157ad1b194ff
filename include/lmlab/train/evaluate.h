// Evaluation of language models: the mean bits per byte of held-out text.
#pragma once

#include <cstdint>

#include "lmlab/data/text_batcher.h"
#include "lmlab/models/gpt.h"

namespace lmlab {

// Mean bits per byte of `model` over the first `max_batches` evaluation batches of `data` (0: all;
// batches of 64 windows of the model's context, TextBatcher::eval_batches): total nats / tokens /
// ln 2, in eval mode without gradients; the training mode is restored.
double evaluate_bpb(GPT& model, const TextBatcher& data, int64_t max_batches);

}  // namespace lmlab
