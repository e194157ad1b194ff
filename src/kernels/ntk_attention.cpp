// The NTK-Attention kernel tables and their choice (include/lmlab/kernels/ntk_attention.h).
#include "lmlab/kernels/ntk_attention.h"

#include <stdexcept>
#include <string>

#include "kernels/ntk_attention_kernels.h"

namespace lmlab::kernels {
namespace {

const NtkAttentionKernels kScalar{"scalar", SimdLevel::Scalar, ntk_forward_scalar, ntk_backward_scalar};
const NtkAttentionKernels kAvx2{"avx2", SimdLevel::AVX2, ntk_forward_avx2, ntk_backward_avx2};
const NtkAttentionKernels kAvx512{"avx512", SimdLevel::AVX512, ntk_forward_avx512, ntk_backward_avx512};

}  // namespace

const NtkAttentionKernels& ntk_attention_kernels_for(SimdLevel level) {
  if (level > detected_simd_level())
    throw std::invalid_argument(std::string("ntk_attention_kernels_for: this CPU does not support ") +
                                simd_level_name(level) + " (best level: " +
                                simd_level_name(detected_simd_level()) + ")");
  switch (level) {
    case SimdLevel::Scalar: return kScalar;
    case SimdLevel::AVX2: return kAvx2;
    case SimdLevel::AVX512: return kAvx512;
  }
  throw std::invalid_argument("ntk_attention_kernels_for: unknown SIMD level " +
                              std::to_string(static_cast<int>(level)));
}

const NtkAttentionKernels& ntk_attention_kernels() {
  static const NtkAttentionKernels& table = ntk_attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
