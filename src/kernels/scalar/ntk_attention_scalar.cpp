// scalar NTK-Attention of include/lmlab/kernels/ntk_attention.h (the algorithm of
// ntk_attention_impl.h over vec_scalar.h); the fallback and test oracle of the SIMD levels.
#include "kernels/scalar/vec_scalar.h"
#include "kernels/ntk_attention_impl.h"
#include "kernels/ntk_attention_kernels.h"

namespace lmlab::kernels {

void ntk_forward_scalar(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end) {
  ntk::forward<vec::Scalar>(args, row_begin, row_end);
}
void ntk_backward_scalar(const NtkBackwardArgs& args) { ntk::backward<vec::Scalar>(args); }

}  // namespace lmlab::kernels
