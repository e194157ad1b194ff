// The scalar attention kernels: flash attention (include/lmlab/kernels/flash_attention.h, the
// algorithm of flash_attention_impl.h) and NTK-Attention (include/lmlab/kernels/ntk_attention.h,
// ntk_attention_impl.h), on one lane with std::exp (vec_scalar.h); fallback and test oracle of the
// SIMD levels.
#include "kernels/flash_attention_impl.h"
#include "kernels/kernel_tables.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/scalar/vec_scalar.h"

namespace lmlab::kernels {

const FlashAttentionKernels kFlashAttentionScalar{"scalar", SimdLevel::Scalar, flash::forward<vec::Scalar>,
                                               flash::backward<vec::Scalar>, flash::all_finite<vec::Scalar>};
const NtkAttentionKernels kNtkAttentionScalar{"scalar", SimdLevel::Scalar, ntk::forward<vec::Scalar>, ntk::backward<vec::Scalar>};

}  // namespace lmlab::kernels
