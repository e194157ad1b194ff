// What the privacy attack experiments (dlg_vision, dlg_text) share: config range checks, the
// attacks' options read from the config, and tensors stored in sweep rows (so --resume can redraw
// figures without rerunning an attack).
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "lmlab/core/config.h"
#include "lmlab/core/value.h"
#include "lmlab/data/image_dataset.h"
#include "lmlab/privacy/dlg.h"
#include "lmlab/privacy/inverting_gradients.h"
#include "lmlab/privacy/tag.h"

namespace lmlab {

// UsageError unless every key is an integer in [1, limit] (the message names key, value, range).
void check_int_range(const Config& cfg, std::initializer_list<const char*> keys, int64_t limit);
// UsageError unless every key is a finite float > 0 (or >= 0 when allow_zero).
void check_positive(const Config& cfg, std::initializer_list<const char*> keys, bool allow_zero = false);

// The victim of the image experiments: its module (parameters), forward, and the names of its last
// layer's weight and bias. [model] kind = "vit" (layers, heads, width, patch) or "mlp" (tanh MLP
// 784 -> width -> 10, a non-transformer control); [train] steps, batch, lr: Adam from a seeded
// start, "early in training".
struct VictimModel {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::string head_weight, head_bias;
};
// UsageError naming the first [model] or [train] value out of range.
void check_victim_config(const Config& cfg);
// A fresh victim from the current torch seed.
VictimModel make_victim(const Config& cfg);
// make_victim from derive_seed(seed, "init"), trained train.steps Adam steps, in eval mode.
VictimModel train_victim(const Config& cfg, const ImageDataset& train, uint64_t seed);

// The dlg.*, ig.* and tag.* sections (each validated).
privacy::DlgOptions dlg_options(const Config& cfg);
privacy::InvertingGradientsOptions ig_options(const Config& cfg);
privacy::TagOptions tag_options(const Config& cfg);

// A float tensor as a flat FloatList and back (with its shape).
FloatList tensor_values(const torch::Tensor& t);
torch::Tensor tensor_from_values(const FloatList& values, const std::vector<int64_t>& shape);

}  // namespace lmlab
