// Private header: not part of lmlab's API. The kernel tables of each family and ISA, defined in
// {scalar,avx2,avx512}/<family>_<isa>.cpp (one file per family and ISA, compiled with that ISA's
// flags), and the choice among them by SIMD level (onebit.cpp, onebit_lut.cpp, flash_attention.cpp,
// ntk_attention.cpp, optim_step.cpp).
#pragma once

#include <stdexcept>
#include <string>

#include "lmlab/kernels/dispatch.h"
#include "lmlab/kernels/flash_attention.h"
#include "lmlab/kernels/ntk_attention.h"
#include "lmlab/kernels/onebit.h"
#include "lmlab/kernels/onebit_lut.h"
#include "lmlab/kernels/optim_step.h"

namespace lmlab::kernels {

// onebit_<isa>.cpp; kOneBitAvx512Vnni (onebit_avx512vnni.cpp) is kOneBitAvx512 with VNNI int8 kernels.
extern const OneBitKernels kOneBitScalar, kOneBitAvx2, kOneBitAvx512, kOneBitAvx512Vnni;
// onebit_lut_<isa>.cpp
extern const OneBitLutKernels kOneBitLutScalar, kOneBitLutAvx2;
// attention_<isa>.cpp
extern const FlashAttentionKernels kFlashAttentionScalar, kFlashAttentionAvx2, kFlashAttentionAvx512;
extern const NtkAttentionKernels kNtkAttentionScalar, kNtkAttentionAvx2, kNtkAttentionAvx512;
// optim_<isa>.cpp
extern const OptimKernels kOptimScalar, kOptimAvx2;

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
