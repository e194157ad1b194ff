// The one-bit kernel tables and their choice (include/lmlab/kernels/onebit.h).
#include "lmlab/kernels/onebit.h"

#include "kernels/kernel_table.h"
#include "kernels/onebit_kernels.h"

namespace lmlab::kernels {
namespace {

const OneBitKernels kScalar{"scalar", SimdLevel::Scalar, binary_gemm_f32_scalar,
                            ternary_gemm_f32_scalar, binary_gemm_i8_scalar, ternary_gemm_i8_scalar};
const OneBitKernels kAvx2{"avx2", SimdLevel::AVX2, binary_gemm_f32_avx2, ternary_gemm_f32_avx2,
                          binary_gemm_i8_avx2, ternary_gemm_i8_avx2};
const OneBitKernels kAvx512{"avx512", SimdLevel::AVX512, binary_gemm_f32_avx512,
                            ternary_gemm_f32_avx512, binary_gemm_i8_avx512, ternary_gemm_i8_avx512};
const OneBitKernels kAvx512Vnni{"avx512_vnni", SimdLevel::AVX512, binary_gemm_f32_avx512,
                                ternary_gemm_f32_avx512, binary_gemm_i8_avx512vnni,
                                ternary_gemm_i8_avx512vnni};

}  // namespace

const OneBitKernels& onebit_kernels_for(SimdLevel level, bool allow_vnni) {
  const bool vnni = level == SimdLevel::AVX512 && allow_vnni && cpu_has_avx512_vnni();
  return table_for_level(level, "onebit_kernels_for", kScalar, kAvx2, vnni ? kAvx512Vnni : kAvx512);
}

const OneBitKernels& onebit_kernels() {
  static const OneBitKernels& table = onebit_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
