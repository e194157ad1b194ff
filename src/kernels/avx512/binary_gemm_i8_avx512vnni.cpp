// AVX512-VNNI binary_gemm_i8 of include/lmlab/kernels/onebit.h;
// twin: scalar/binary_gemm_i8_scalar.cpp.
// W [N x K] binary, X [B x K] int8, Y [B x N] int32: y[b][n] = sum_k s_nk x[b][k], s_nk = +1
// where bit k of row n is set, else -1; computed as sum_k 2 bit_nk x[b][k] - sum_k x[b][k]
// (onebit_gemm.h) with AVX512-VNNI vpdpbusd on 64 columns. Exact.
#include "kernels/avx512/dot_vnni.h"
#include "kernels/onebit_kernels.h"

namespace lmlab::kernels {

void binary_gemm_i8_avx512vnni(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                               int64_t row_begin, int64_t row_end) {
  simd_binary_gemm_i8<Avx512Vnni>(w, x, batch, y, row_begin, row_end);
}

}  // namespace lmlab::kernels
