// The scalar one-bit kernels of include/lmlab/kernels/onebit.h: fallback and test oracle of the
// SIMD levels. y[b][n] = sum_k w_nk x[b][k] with w_nk = s_nk in {-1, +1} (binary: bit k of row n
// set: +1) or t_nk in {-1, 0, +1} (ternary: plus and minus planes). fp32 X [B x K], Y [B x N]
// summed as in scalar/onebit_scalar.h (4 interleaved sums); int8 X, int32 Y exact.
#include "kernels/kernel_tables.h"
#include "kernels/scalar/onebit_scalar.h"

namespace lmlab::kernels {

const OneBitKernels kOneBitScalar{"scalar", SimdLevel::Scalar,
                                  scalar::gemm<float, BinaryView, float, float>,
                                  scalar::gemm<float, TernaryView, float, float>,
                                  scalar::gemm<int32_t, BinaryView, int8_t, int32_t>,
                                  scalar::gemm<int32_t, TernaryView, int8_t, int32_t>};

}  // namespace lmlab::kernels
