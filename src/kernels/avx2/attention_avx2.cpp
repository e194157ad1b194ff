// The AVX2 attention kernels: flash attention (include/lmlab/kernels/flash_attention.h, the
// algorithm of flash_attention_impl.h) and NTK-Attention (include/lmlab/kernels/ntk_attention.h,
// ntk_attention_impl.h) over the vector type and exp of vec_avx2.h; twins:
// scalar/attention_scalar.cpp.
#include "kernels/flash_attention_impl.h"
#include "kernels/kernel_tables.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/avx2/vec_avx2.h"

namespace lmlab::kernels {

const FlashAttentionKernels kFlashAttentionAvx2{"avx2", SimdLevel::AVX2, flash::forward<vec::Avx2>,
                                               flash::backward<vec::Avx2>, flash::all_finite<vec::Avx2>};
const NtkAttentionKernels kNtkAttentionAvx2{"avx2", SimdLevel::AVX2, ntk::forward<vec::Avx2>, ntk::backward<vec::Avx2>};

}  // namespace lmlab::kernels
