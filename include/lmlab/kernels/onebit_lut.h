// Lookup-table int8 kernels for packed binary and ternary weights (the T-MAC method, arXiv
// 2407.00088, also behind bitnet.cpp's TL kernels): instead of multiplying each weight by its
// activation, the partial sums of every group of 4 activations are tabulated once per call, and
// each output row adds one table entry per group, chosen by its 4 weight bits.
//
// With W [N x K] packed (packed.h), X [B x K] int8 and Y [B x N] int32, row-major:
//   T_g[p] = sum_{j < 4, bit j of p set} x[b][4g + j]      p = 0..15, columns >= K count 0,
//                                                           int16 in [-512, 508]
//   P_n    = sum_g T_g[nibble_n(g)]                         nibble_n(g) = bits 4g..4g+3 of a
//                                                           {0, 1} plane of row n
//   binary  (plane: the sign bits)        y[b][n] = 2 P_n - sum_k x[b][k]
//   ternary (planes: plus, minus)          y[b][n] = P_n(plus) - P_n(minus)
// exact, so equal to onebit.h's int8 kernels bit for bit.
//
// Layouts (made by lut_layout and lut_tables, read by the kernels):
//   weights: the planes cut into blocks of 32 rows and pairs of groups (2q, 2q + 1); per block r,
//     pair q and plane p, 32 bytes at ((r * pairs + q) * planes + p) * 32: byte i (i < 16) holds
//     nibble_{32r+i}(2q) in its low and nibble_{32r+16+i}(2q) in its high 4 bits, byte 16 + i the
//     same for group 2q + 1. Rows >= N and groups past K are 0.
//   tables: per batch row b and pair q, 64 bytes at (b * pairs + q) * 64: the low bytes of
//     T_2q[0..15], of T_2q+1[0..15], then their high bytes, so one 32-byte load feeds a lookup of
//     both groups (vpshufb looks up each 128-bit lane in its own 16-byte table).
// pairs = ceil(ceil(K / 4) / 2); blocks = ceil(N / 32).
#pragma once

#include <cstdint>
#include <vector>

#include "lmlab/kernels/dispatch.h"
#include "lmlab/kernels/packed.h"

namespace lmlab::kernels {

constexpr int kLutBlockRows = 32;  // rows per weight block
constexpr int kLutGroup = 4;       // columns per table

// ceil(ceil(K / 4) / 2) and ceil(N / 32).
constexpr int64_t lut_pairs(int64_t cols) { return (cols + 2 * kLutGroup - 1) / (2 * kLutGroup); }
constexpr int64_t lut_blocks(int64_t rows) { return (rows + kLutBlockRows - 1) / kLutBlockRows; }

struct LutView {
  const uint8_t* bytes;
  int64_t rows, cols, planes;  // planes: 1 binary, 2 ternary
};

struct LutWeights {
  int64_t rows = 0, cols = 0, planes = 0;
  std::vector<uint8_t> bytes;  // lut_blocks(rows) * lut_pairs(cols) * planes * 32
  LutView view() const { return {bytes.data(), rows, cols, planes}; }
};

// The weight layout above from packed.h's (padding bits of the last word ignored).
LutWeights lut_layout(const BinaryView& w);
LutWeights lut_layout(const TernaryView& w);

// Tables of X [batch x cols] int8 (layout above) and the row sums sum_k x[b][k].
struct LutTables {
  const int8_t* bytes;  // batch * pairs * 64
  const int32_t* sums;  // batch
  int64_t batch;
};

// y [batch x rows] for the rows of blocks [block_begin, block_end) (rows >= N are not written):
// callers may split [0, lut_blocks(N)) across threads; kernels are single-threaded.
using LutTablesI8 = void (*)(const int8_t* x, int64_t batch, int64_t cols, int8_t* tables, int32_t* sums);
using LutGemmI8 = void (*)(const LutView& w, const LutTables& t, int32_t* y, int64_t block_begin,
                           int64_t block_end);

struct OneBitLutKernels {
  const char* name;  // "scalar" or "avx2" (the AVX-512 level uses the AVX2 kernels)
  SimdLevel level;
  LutTablesI8 tables_i8;  // fills tables (batch * pairs * 64 bytes) and sums (batch)
  LutGemmI8 gemm_i8;      // binary when w.planes == 1, ternary when 2
};

const OneBitLutKernels& onebit_lut_kernels();
// The table for one level (tests, benchmarks); std::invalid_argument if the CPU lacks it.
const OneBitLutKernels& onebit_lut_kernels_for(SimdLevel level);

}  // namespace lmlab::kernels
