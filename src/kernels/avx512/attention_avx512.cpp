// The AVX-512 attention kernels: flash attention (include/lmlab/kernels/flash_attention.h, the
// algorithm of flash_attention_impl.h) and NTK-Attention (include/lmlab/kernels/ntk_attention.h,
// ntk_attention_impl.h) over the vector type and exp of vec_avx512.h; twins:
// scalar/attention_scalar.cpp.
#include "kernels/flash_attention_impl.h"
#include "kernels/kernel_tables.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/avx512/vec_avx512.h"

namespace lmlab::kernels {

const FlashAttentionKernels kFlashAttentionAvx512{"avx512", SimdLevel::AVX512, flash::forward<vec::Avx512>,
                                               flash::backward<vec::Avx512>, flash::all_finite<vec::Avx512>};
const NtkAttentionKernels kNtkAttentionAvx512{"avx512", SimdLevel::AVX512, ntk::forward<vec::Avx512>, ntk::backward<vec::Avx512>};

}  // namespace lmlab::kernels
