// The choice of NTK-Attention kernel table (include/lmlab/kernels/ntk_attention.h).
#include "lmlab/kernels/ntk_attention.h"

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const NtkAttentionKernels& ntk_attention_kernels_for(SimdLevel level) {
  return table_for_level(level, "ntk_attention_kernels_for", kNtkAttentionScalar, kNtkAttentionAvx2,
                         kNtkAttentionAvx512);
}

const NtkAttentionKernels& ntk_attention_kernels() {
  static const NtkAttentionKernels& table = ntk_attention_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
