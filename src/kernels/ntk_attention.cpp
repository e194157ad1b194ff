// The NTK-Attention kernel tables and their choice (include/lmlab/kernels/ntk_attention.h).
#include "lmlab/kernels/ntk_attention.h"

#include "kernels/kernel_table.h"
#include "kernels/ntk_attention_kernels.h"

namespace lmlab::kernels {
namespace {

const NtkAttentionKernels kScalar{"scalar", SimdLevel::Scalar, ntk_forward_scalar, ntk_backward_scalar};
const NtkAttentionKernels kAvx2{"avx2", SimdLevel::AVX2, ntk_forward_avx2, ntk_backward_avx2};
const NtkAttentionKernels kAvx512{"avx512", SimdLevel::AVX512, ntk_forward_avx512, ntk_backward_avx512};

}  // namespace

const NtkAttentionKernels& ntk_attention_kernels_for(SimdLevel level) {
  return table_for_level(level, "ntk_attention_kernels_for", kScalar, kAvx2, kAvx512);
}

const NtkAttentionKernels& ntk_attention_kernels() {
  static const NtkAttentionKernels& table = ntk_attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
