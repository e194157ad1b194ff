// The choice of flash-attention kernel table (include/lmlab/kernels/flash_attention.h).
#include "lmlab/kernels/flash_attention.h"

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const FlashAttentionKernels& flash_attention_kernels_for(SimdLevel level) {
  return table_for_level(level, "flash_attention_kernels_for", kFlashAttentionScalar, kFlashAttentionAvx2,
                         kFlashAttentionAvx512);
}

const FlashAttentionKernels& flash_attention_kernels() {
  static const FlashAttentionKernels& table = flash_attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
