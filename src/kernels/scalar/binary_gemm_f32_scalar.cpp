// Scalar twin of binary_gemm_f32 (include/lmlab/kernels/onebit.h), fallback and test oracle:
// y[b][n] = sum_k w_nk x[b][k], w_nk = s_nk in {-1, +1} (bit k of row n set: +1);
// fp32 X [B x K] and Y [B x N]; summed as in scalar/onebit_scalar.h (4 interleaved sums).
#include "kernels/onebit_kernels.h"
#include "kernels/scalar/onebit_scalar.h"

namespace lmlab::kernels {

void binary_gemm_f32_scalar(const BinaryView& w, const float* x, int64_t batch, float* y,
                            int64_t row_begin, int64_t row_end) {
  scalar::gemm<float>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
