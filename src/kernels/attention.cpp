// The attention kernel tables and their choice (include/lmlab/kernels/attention.h).
#include "lmlab/kernels/attention.h"

#include <stdexcept>
#include <string>

#include "kernels/attention_kernels.h"

namespace lmlab::kernels {
namespace {

const AttentionKernels kScalar{"scalar", SimdLevel::Scalar, flash_forward_scalar,
                               flash_backward_scalar};
const AttentionKernels kAvx2{"avx2", SimdLevel::AVX2, flash_forward_avx2, flash_backward_avx2};
const AttentionKernels kAvx512{"avx512", SimdLevel::AVX512, flash_forward_avx512,
                               flash_backward_avx512};

}  // namespace

const AttentionKernels& attention_kernels_for(SimdLevel level) {
  if (level > detected_simd_level())
    throw std::invalid_argument(std::string("attention_kernels_for: this CPU does not support ") +
                                simd_level_name(level) + " (best level: " +
                                simd_level_name(detected_simd_level()) + ")");
  switch (level) {
    case SimdLevel::Scalar: return kScalar;
    case SimdLevel::AVX2: return kAvx2;
    case SimdLevel::AVX512: return kAvx512;
  }
  throw std::invalid_argument("attention_kernels_for: unknown SIMD level " +
                              std::to_string(static_cast<int>(level)));
}

const AttentionKernels& attention_kernels() {
  static const AttentionKernels& table = attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
