// Shared by the kernel tests (tests/kernels/*_test.cpp): the kernel variants to run, the awkward
// sizes (DESIGN.md "Kernels"), seeded random operands and exact or double-precision references.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "lmlab/kernels/onebit.h"

namespace lmlab::kernels::testing {

// One function table per SIMD level, and level AVX512 with and without the VNNI int8 kernels.
struct Variant {
  const char* name;
  SimdLevel level;
  bool vnni;
  bool available() const {
    return level <= detected_simd_level() && (!vnni || cpu_has_avx512_vnni());
  }
  const OneBitKernels& kernels() const { return onebit_kernels_for(level, vnni); }
};
inline const Variant kVariants[] = {{"scalar", SimdLevel::Scalar, false},
                                    {"avx2", SimdLevel::AVX2, false},
                                    {"avx512", SimdLevel::AVX512, false},
                                    {"avx512_vnni", SimdLevel::AVX512, true}};
inline std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
  return info.param.name;
}
inline void PrintTo(const Variant& variant, std::ostream* os) { *os << variant.name; }
#define LMLAB_SKIP_UNAVAILABLE(variant)                                                     \
  if (!(variant).available())                                                               \
  GTEST_SKIP() << "this CPU lacks " << (variant).name << " (detected level: "               \
               << simd_level_name(detected_simd_level()) << ")"

// K: around every multiple of 8, 16, 32 and 64 that a vector loop or a word boundary could trip on.
inline const std::vector<int64_t> kCols = {1,   3,   7,   8,   9,   15,  16,   17,
                                           31,  32,  33,  63,  64,  65,  127,  128,
                                           129, 255, 256, 257, 1000, 4096 + 13};
inline const std::vector<int64_t> kRows = {1, 3, 17, 64, 65};
inline const std::vector<int64_t> kBatches = {1, 2, 3, 4, 5, 8, 9, 16};

// A seed that depends on the sizes, so that every shape gets its own fixed operands.
inline uint64_t seed_for(int64_t k, int64_t n, int64_t b, uint64_t salt = 0) {
  return 1000003u * static_cast<uint64_t>(k) + 10007u * static_cast<uint64_t>(n) +
         101u * static_cast<uint64_t>(b) + salt;
}

// Weights in {-1, +1} (ternary = false) or {-1, 0, +1}, as floats.
inline std::vector<float> random_weights(int64_t count, bool ternary, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pick(ternary ? -1 : 0, 1);
  std::vector<float> w(static_cast<size_t>(count));
  for (float& v : w) v = ternary ? static_cast<float>(pick(rng)) : (pick(rng) ? 1.0f : -1.0f);
  return w;
}

inline std::vector<float> random_f32(int64_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(count));
  for (float& v : x) v = dist(rng);
  return x;
}

// Every int8 value, -128 included.
inline std::vector<int8_t> random_i8(int64_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> x(static_cast<size_t>(count));
  for (int8_t& v : x) v = static_cast<int8_t>(dist(rng));
  return x;
}

// y[b][n] = sum_k w[n][k] x[b][k] in Acc (double for fp32, int64 for int8: exact here).
template <typename Acc, typename In>
std::vector<Acc> reference(const std::vector<float>& w, const std::vector<In>& x, int64_t rows,
                           int64_t cols, int64_t batch) {
  std::vector<Acc> y(static_cast<size_t>(batch * rows));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t n = 0; n < rows; ++n) {
      Acc acc = 0;
      for (int64_t k = 0; k < cols; ++k)
        acc += static_cast<Acc>(w[n * cols + k]) * static_cast<Acc>(x[b * cols + k]);
      y[b * rows + n] = acc;
    }
  return y;
}

// Calls f(k, n, b, w, x, ref, rng) for every K x N x B of kCols x `rows` x kBatches with fixed
// random weights w (binary or ternary), int8 x and their exact product ref; stops at a fatal failure.
template <typename F>
void for_each_i8_case(const std::vector<int64_t>& rows, bool ternary, uint64_t salt, F&& f) {
  for (int64_t k : kCols)
    for (int64_t n : rows)
      for (int64_t b : kBatches) {
        std::mt19937_64 rng(seed_for(k, n, b, salt + ternary));
        const std::vector<float> w = random_weights(n * k, ternary, rng);
        const std::vector<int8_t> x = random_i8(b * k, rng);
        f(k, n, b, w, x, reference<int64_t>(w, x, n, k, b), rng);
        if (::testing::Test::HasFatalFailure()) return;
      }
}

// Sets every padding bit of both formats at random (the kernels must ignore them).
inline void scramble_padding(uint64_t* words, int64_t count, int64_t words_per_row, int planes,
                             int64_t cols, std::mt19937_64& rng) {
  const int used = static_cast<int>(cols % kWordBits);
  if (used == 0) return;
  const uint64_t padding = ~((uint64_t{1} << used) - 1);
  const int64_t stride = planes * words_per_row;
  for (int64_t i = 0; i < count; ++i)
    if (i % stride >= stride - planes) words[i] |= rng() & padding;
}

}  // namespace lmlab::kernels::testing
