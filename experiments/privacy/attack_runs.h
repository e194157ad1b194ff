// What the privacy attack experiments (dlg_vision, dlg_text) share: config range checks, the
// attacks' options read from the config, and tensors stored in sweep rows (so --resume can redraw
// figures without rerunning an attack).
#pragma once

#include <initializer_list>
#include <string>

#include "lmlab/core/config.h"
#include "lmlab/core/value.h"
#include "lmlab/privacy/dlg.h"
#include "lmlab/privacy/inverting_gradients.h"
#include "lmlab/privacy/tag.h"

namespace lmlab {

// UsageError unless every key is an integer in [1, limit] (the message names key, value, range).
void check_int_range(const Config& cfg, std::initializer_list<const char*> keys, int64_t limit);
// UsageError unless every key is a finite float > 0 (or >= 0 when allow_zero).
void check_positive(const Config& cfg, std::initializer_list<const char*> keys, bool allow_zero = false);

// The dlg.*, ig.* and tag.* sections (each validated).
privacy::DlgOptions dlg_options(const Config& cfg);
privacy::InvertingGradientsOptions ig_options(const Config& cfg);
privacy::TagOptions tag_options(const Config& cfg);

// A float tensor as a flat FloatList and back (with its shape).
FloatList tensor_values(const torch::Tensor& t);
torch::Tensor tensor_from_values(const FloatList& values, const std::vector<int64_t>& shape);

}  // namespace lmlab
