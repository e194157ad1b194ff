// The choice of one-bit kernel table (include/lmlab/kernels/onebit.h).
#include "lmlab/kernels/onebit.h"

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

const OneBitKernels& onebit_kernels_for(SimdLevel level, bool allow_vnni) {
  const bool vnni = level == SimdLevel::AVX512 && allow_vnni && cpu_has_avx512_vnni();
  return table_for_level(level, "onebit_kernels_for", kOneBitScalar, kOneBitAvx2,
                         vnni ? kOneBitAvx512Vnni : kOneBitAvx512);
}

const OneBitKernels& onebit_kernels() {
  static const OneBitKernels& table = onebit_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
