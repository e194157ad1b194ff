// 1-bit and ternary matrix products for the P1 layers (arXiv 2411.01663, NOTES.md "P1"; weight
// recipes of BitNet arXiv 2310.11453 and BitNet b1.58 arXiv 2402.17764), chosen once per process
// from the SIMD level.
//
// With W [N x K] packed (packed.h), X [B x K] and Y [B x N], all row-major and contiguous:
//   y[b][n] = sum_k w_nk * x[b][k],   w_nk in {-1, +1} (binary) or {-1, 0, +1} (ternary).
// fp32 kernels: X, Y float, X finite (an Inf or NaN in a row of X may turn that whole row of Y
// into NaN); the sum is rounded in an order fixed by the level and B (never by the row range), so
// results may differ in the last bits across levels and batch sizes (bound in
// tests/kernels/onebit_test.cpp). int8 kernels: X int8 (any value -128..127), Y int32, exact for
// K < 2^23. No scale factors: the layer above multiplies by beta and the activation scale.
//
// Each call computes rows n in [row_begin, row_end) of W, i.e. columns n of Y for every b, and
// writes nothing else, so callers may split [0, N) across threads; kernels are single-threaded.
// Any B >= 0 works; the SIMD kernels handle the rows of X in tiles of up to 4 that share every
// weight word they load, and cut K into panels that keep a tile's slice of X in L1.
#pragma once

#include <cstdint>

#include "lmlab/kernels/packed.h"
#include "lmlab/kernels/dispatch.h"

namespace lmlab::kernels {

using BinaryGemmF32 = void (*)(const BinaryView& w, const float* x, int64_t batch, float* y,
                               int64_t row_begin, int64_t row_end);
using TernaryGemmF32 = void (*)(const TernaryView& w, const float* x, int64_t batch, float* y,
                                int64_t row_begin, int64_t row_end);
using BinaryGemmI8 = void (*)(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                              int64_t row_begin, int64_t row_end);
using TernaryGemmI8 = void (*)(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                               int64_t row_begin, int64_t row_end);

struct OneBitKernels {
  const char* name;  // "scalar", "avx2", "avx512" or "avx512_vnni"
  SimdLevel level;
  BinaryGemmF32 binary_gemm_f32;
  TernaryGemmF32 ternary_gemm_f32;
  BinaryGemmI8 binary_gemm_i8;
  TernaryGemmI8 ternary_gemm_i8;
};

// The table for active_simd_level(), with the AVX512-VNNI int8 kernels when the CPU has VNNI.
const OneBitKernels& onebit_kernels();
// The table for one level (for tests and benchmarks). allow_vnni picks the VNNI int8 kernels at
// level AVX512 when the CPU has them. Throws std::invalid_argument if the CPU lacks the level.
const OneBitKernels& onebit_kernels_for(SimdLevel level, bool allow_vnni = true);

}  // namespace lmlab::kernels
