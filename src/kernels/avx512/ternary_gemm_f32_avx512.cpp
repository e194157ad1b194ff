// AVX-512 ternary_gemm_f32 of include/lmlab/kernels/onebit.h;
// twin: scalar/ternary_gemm_f32_scalar.cpp.
// W [N x K] ternary, X [B x K] fp32, Y [B x N] fp32: y[b][n] = sum_k t_nk x[b][k], t_nk in
// {-1, 0, +1}; computed as P - M (onebit_gemm.h), the 16-lane masked sums over the plus and
// minus planes. Rounded in another order than the twin (bound in tests/kernels/onebit_test.cpp).
#include "kernels/avx512/onebit_avx512.h"
#include "kernels/onebit_kernels.h"

namespace lmlab::kernels {

void ternary_gemm_f32_avx512(const TernaryView& w, const float* x, int64_t batch, float* y,
                             int64_t row_begin, int64_t row_end) {
  simd_ternary_gemm_f32<Avx512>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
