// Scalar twin of ternary_gemm_i8 (include/lmlab/kernels/onebit.h), fallback and test oracle:
// y[b][n] = sum_k w_nk x[b][k], w_nk = t_nk in {-1, 0, +1} (plus / minus planes);
// int8 X [B x K], int32 Y [B x N]; exact.
#include "kernels/onebit_kernels.h"
#include "kernels/scalar/onebit_scalar.h"

namespace lmlab::kernels {

void ternary_gemm_i8_scalar(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                            int64_t row_begin, int64_t row_end) {
  scalar::gemm<int32_t>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
