// The tiny GPTs of the 1-bit language-model experiments (onebit.scaling_law, onebit.plateau): every
// linear map a BitLinear (binary: centred sign with scale mean|W|; ternary: absmean rounding;
// act_bits-bit absmax activations after a LayerNorm, BitNet's recipe) or, for precision "fp", a
// plain Linear; embeddings, norms and the tied head stay full precision, as in BitNet.
#pragma once

#include <string>

#include "lmlab/core/config.h"
#include "lmlab/models/gpt.h"

namespace lmlab {

// The [model] section of `cfg` at `width`, with the linear maps of `precision` (fp, binary,
// ternary; UsageError otherwise) and `cfg`'s act_bits.
GPTOptions bitnet_gpt_options(const Config& cfg, const std::string& precision, int64_t width);

}  // namespace lmlab
