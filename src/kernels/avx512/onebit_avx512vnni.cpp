// The AVX512-VNNI one-bit table: the int8 kernels of include/lmlab/kernels/onebit.h with
// vpdpbusd on 64 columns (avx512/dot_vnni.h), exact; twins: scalar/onebit_scalar.cpp. The fp32
// kernels are avx512's, instantiated here too: this file alone is compiled with -mavx512vnni and
// its table is chosen only on CPUs that have VNNI (CMakeLists.txt, "kernels").
#include "kernels/avx512/dot_vnni.h"
#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const OneBitKernels kOneBitAvx512Vnni{"avx512_vnni", SimdLevel::AVX512, simd_binary_gemm_f32<Avx512>,
                                      simd_ternary_gemm_f32<Avx512>, simd_binary_gemm_i8<Avx512Vnni>,
                                      simd_ternary_gemm_i8<Avx512Vnni>};

}  // namespace lmlab::kernels
