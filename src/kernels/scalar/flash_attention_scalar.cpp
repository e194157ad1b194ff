// Scalar flash attention of include/lmlab/kernels/attention.h: the algorithm of
// flash_attention_impl.h on one lane with std::exp (vec_scalar.h); fallback and test oracle of the
// SIMD levels.
#include "kernels/attention_kernels.h"
#include "kernels/flash_attention_impl.h"
#include "kernels/scalar/vec_scalar.h"

namespace lmlab::kernels {

void flash_forward_scalar(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end) {
  flash::forward<vec::Scalar>(args, row_begin, row_end);
}
void flash_backward_scalar(const FlashBackwardArgs& args) { flash::backward<vec::Scalar>(args); }

}  // namespace lmlab::kernels
