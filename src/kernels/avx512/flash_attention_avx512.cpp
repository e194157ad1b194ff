// AVX-512 flash attention of include/lmlab/kernels/attention.h (vector type and exp:
// vec_avx512.h); twin: scalar/flash_attention_scalar.cpp.
#include "kernels/attention_kernels.h"
#include "kernels/avx512/vec_avx512.h"
#include "kernels/flash_attention_impl.h"

namespace lmlab::kernels {

void flash_forward_avx512(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end) {
  flash::forward<vec::Avx512>(args, row_begin, row_end);
}
void flash_backward_avx512(const FlashBackwardArgs& args) { flash::backward<vec::Avx512>(args); }

}  // namespace lmlab::kernels
