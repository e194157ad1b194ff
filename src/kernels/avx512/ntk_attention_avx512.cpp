// AVX-512 NTK-Attention of include/lmlab/kernels/ntk_attention.h (the algorithm of
// ntk_attention_impl.h over vec_avx512.h); twin: scalar/ntk_attention_scalar.cpp.
#include "kernels/avx512/vec_avx512.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/ntk_attention_kernels.h"

namespace lmlab::kernels {

void ntk_forward_avx512(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end) {
  ntk::forward<vec::Avx512>(args, row_begin, row_end);
}
void ntk_backward_avx512(const NtkBackwardArgs& args) { ntk::backward<vec::Avx512>(args); }

}  // namespace lmlab::kernels
