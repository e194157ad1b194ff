// AVX512-VNNI ternary_gemm_i8 of include/lmlab/kernels/onebit.h;
// twin: scalar/ternary_gemm_i8_scalar.cpp.
// W [N x K] ternary, X [B x K] int8, Y [B x N] int32: y[b][n] = sum_k t_nk x[b][k], t_nk in
// {-1, 0, +1}; computed as sum_k (t_nk + 1) x[b][k] - sum_k x[b][k] (onebit_gemm.h) with
// AVX512-VNNI vpdpbusd on 64 columns. Exact.
#include "kernels/avx512/dot_vnni.h"
#include "kernels/onebit_kernels.h"

namespace lmlab::kernels {

void ternary_gemm_i8_avx512vnni(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                                int64_t row_begin, int64_t row_end) {
  simd_ternary_gemm_i8<Avx512Vnni>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
