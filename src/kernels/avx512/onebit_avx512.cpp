// The AVX-512 one-bit kernels of include/lmlab/kernels/onebit.h (contract and loops:
// onebit_gemm.h; building blocks: avx512/onebit_avx512.h); twins: scalar/onebit_scalar.cpp.
// W [N x K], X [B x K], Y [B x N]:
//   binary fp32   y = 2 P - T, P and T by 16-lane masked sums;
//   ternary fp32  y = P - M, the 16-lane masked sums over the plus and minus planes;
//   binary int8   y = sum_k 2 bit_nk x[b][k] - sum_k x[b][k], AVX-512BW vpmaddubsw + vpmaddwd on
//                 64 columns;
//   ternary int8  y = sum_k (t_nk + 1) x[b][k] - sum_k x[b][k], the same on 64 columns.
// fp32 results are rounded in another order than the twin (bound in tests/kernels/onebit_test.cpp);
// int8 results are exact. The VNNI int8 kernels: avx512/onebit_avx512vnni.cpp.
#include "kernels/avx512/onebit_avx512.h"
#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const OneBitKernels kOneBitAvx512{"avx512", SimdLevel::AVX512, simd_binary_gemm_f32<Avx512>, simd_ternary_gemm_f32<Avx512>,
                               simd_binary_gemm_i8<Avx512>, simd_ternary_gemm_i8<Avx512>};

}  // namespace lmlab::kernels
