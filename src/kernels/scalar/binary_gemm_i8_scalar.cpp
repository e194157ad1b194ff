// Scalar twin of binary_gemm_i8 (include/lmlab/kernels/onebit.h), fallback and test oracle:
// y[b][n] = sum_k w_nk x[b][k], w_nk = s_nk in {-1, +1} (bit k of row n set: +1);
// int8 X [B x K], int32 Y [B x N]; exact.
#include "kernels/onebit_kernels.h"
#include "kernels/scalar/onebit_scalar.h"

namespace lmlab::kernels {

void binary_gemm_i8_scalar(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                           int64_t row_begin, int64_t row_end) {
  scalar::gemm<int32_t>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
