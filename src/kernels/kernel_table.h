// Private header: not part of lmlab's API. Picking a kernel table by SIMD level, shared by the
// kernel families (onebit.cpp, attention.cpp).
#pragma once

#include <stdexcept>
#include <string>

#include "lmlab/kernels/simd.h"

namespace lmlab::kernels {

// The table of `level`; std::invalid_argument naming `who` when the CPU lacks the level.
template <class Table>
const Table& table_for_level(SimdLevel level, const char* who, const Table& scalar,
                             const Table& avx2, const Table& avx512) {
  if (level > detected_simd_level())
    throw std::invalid_argument(std::string(who) + ": this CPU does not support " +
                                simd_level_name(level) + " (best level: " +
                                simd_level_name(detected_simd_level()) + ")");
  switch (level) {
    case SimdLevel::Scalar: return scalar;
    case SimdLevel::AVX2: return avx2;
    case SimdLevel::AVX512: return avx512;
  }
  throw std::invalid_argument(std::string(who) + ": unknown SIMD level " +
                              std::to_string(static_cast<int>(level)));
}

}  // namespace lmlab::kernels
