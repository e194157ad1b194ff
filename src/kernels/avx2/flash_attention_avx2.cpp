// AVX2 flash attention of include/lmlab/kernels/attention.h (vector type and exp: vec_avx2.h);
// twin: scalar/flash_attention_scalar.cpp.
#include "kernels/attention_kernels.h"
#include "kernels/avx2/vec_avx2.h"
#include "kernels/flash_attention_impl.h"

namespace lmlab::kernels {

void flash_forward_avx2(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end) {
  flash::forward<vec::Avx2>(args, row_begin, row_end);
}
void flash_backward_avx2(const FlashBackwardArgs& args) { flash::backward<vec::Avx2>(args); }

}  // namespace lmlab::kernels
