// The one-bit kernel tables and their choice (include/lmlab/kernels/onebit.h).
#include "lmlab/kernels/onebit.h"

#include <stdexcept>
#include <string>

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
  if (level > detected_simd_level())
    throw std::invalid_argument(std::string("onebit_kernels_for: this CPU does not support ") +
                                simd_level_name(level) + " (best level: " +
                                simd_level_name(detected_simd_level()) + ")");
  switch (level) {
    case SimdLevel::Scalar: return kScalar;
    case SimdLevel::AVX2: return kAvx2;
    case SimdLevel::AVX512: return allow_vnni && cpu_has_avx512_vnni() ? kAvx512Vnni : kAvx512;
  }
  throw std::invalid_argument("onebit_kernels_for: unknown SIMD level " +
                              std::to_string(static_cast<int>(level)));
}

const OneBitKernels& onebit_kernels() {
  static const OneBitKernels& table = onebit_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
