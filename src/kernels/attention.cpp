// The attention kernel tables and their choice (include/lmlab/kernels/attention.h).
#include "lmlab/kernels/attention.h"

#include "kernels/attention_kernels.h"
#include "kernels/kernel_table.h"

namespace lmlab::kernels {
namespace {

const AttentionKernels kScalar{"scalar", SimdLevel::Scalar, flash_forward_scalar,
                               flash_backward_scalar};
const AttentionKernels kAvx2{"avx2", SimdLevel::AVX2, flash_forward_avx2, flash_backward_avx2};
const AttentionKernels kAvx512{"avx512", SimdLevel::AVX512, flash_forward_avx512,
                               flash_backward_avx512};

}  // namespace

const AttentionKernels& attention_kernels_for(SimdLevel level) {
  return table_for_level(level, "attention_kernels_for", kScalar, kAvx2, kAvx512);
}

const AttentionKernels& attention_kernels() {
  static const AttentionKernels& table = attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
