// Scalar twin of ternary_gemm_f32 (include/lmlab/kernels/onebit.h), fallback and test oracle:
// y[b][n] = sum_k w_nk x[b][k], w_nk = t_nk in {-1, 0, +1} (plus / minus planes);
// fp32 X [B x K] and Y [B x N]; summed as in scalar/onebit_scalar.h (4 interleaved sums).
#include "kernels/onebit_kernels.h"
#include "kernels/scalar/onebit_scalar.h"

namespace lmlab::kernels {

void ternary_gemm_f32_scalar(const TernaryView& w, const float* x, int64_t batch, float* y,
                             int64_t row_begin, int64_t row_end) {
  scalar::gemm<float>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
