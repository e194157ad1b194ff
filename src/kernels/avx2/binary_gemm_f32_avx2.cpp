// AVX2 binary_gemm_f32 of include/lmlab/kernels/onebit.h; twin: scalar/binary_gemm_f32_scalar.cpp.
// W [N x K] binary, X [B x K] fp32, Y [B x N] fp32: y[b][n] = sum_k s_nk x[b][k], s_nk = +1 where
// bit k of row n is set, else -1; computed as 2 P - T (onebit_gemm.h), P and T by 8-lane
// masked sums. Rounded in another order than the twin (bound in tests/kernels/onebit_test.cpp).
#include "kernels/avx2/onebit_avx2.h"
#include "kernels/onebit_kernels.h"

namespace lmlab::kernels {

void binary_gemm_f32_avx2(const BinaryView& w, const float* x, int64_t batch, float* y,
                          int64_t row_begin, int64_t row_end) {
  simd_binary_gemm_f32<Avx2>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
