// AVX2 NTK-Attention of include/lmlab/kernels/ntk_attention.h (the algorithm of
// ntk_attention_impl.h over vec_avx2.h); twin: scalar/ntk_attention_scalar.cpp.
#include "kernels/avx2/vec_avx2.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/ntk_attention_kernels.h"

namespace lmlab::kernels {

void ntk_forward_avx2(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end) {
  ntk::forward<vec::Avx2>(args, row_begin, row_end);
}
void ntk_backward_avx2(const NtkBackwardArgs& args) { ntk::backward<vec::Avx2>(args); }

}  // namespace lmlab::kernels
