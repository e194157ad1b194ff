// The AVX2 one-bit kernels of include/lmlab/kernels/onebit.h (contract and loops: onebit_gemm.h;
// building blocks: avx2/onebit_avx2.h); twins: scalar/onebit_scalar.cpp.
// W [N x K], X [B x K], Y [B x N]:
//   binary fp32   y = 2 P - T, P and T by 8-lane masked sums;
//   ternary fp32  y = P - M, the 8-lane masked sums over the plus and minus planes;
//   binary int8   y = sum_k 2 bit_nk x[b][k] - sum_k x[b][k], vpmaddubsw + vpmaddwd on 32 columns;
//   ternary int8  y = sum_k (t_nk + 1) x[b][k] - sum_k x[b][k], the same on 32 columns.
// fp32 results are rounded in another order than the twin (bound in tests/kernels/onebit_test.cpp);
// int8 results are exact.
#include "kernels/avx2/onebit_avx2.h"
#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const OneBitKernels kOneBitAvx2{"avx2", SimdLevel::AVX2, simd_binary_gemm_f32<Avx2>, simd_ternary_gemm_f32<Avx2>,
                               simd_binary_gemm_i8<Avx2>, simd_ternary_gemm_i8<Avx2>};

}  // namespace lmlab::kernels
