// Packing and unpacking of binary and ternary weight matrices (include/lmlab/kernels/packed.h).
// W [N x K] row-major floats <-> rows of ceil(K / 64) words, bit k at word k / 64, bit k % 64.
#include "lmlab/kernels/packed.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace lmlab::kernels {
namespace {

void check_shape(const char* fn, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    throw std::invalid_argument(std::string(fn) + ": shape must be non-negative, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
}

[[noreturn]] void throw_bad_weight(const char* fn, int64_t row, int64_t col, float value,
                                   const char* hint) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
  throw std::invalid_argument(std::string(fn) + ": weight at row " + std::to_string(row) +
                              ", col " + std::to_string(col) + " is " + text + "; " + hint);
}

bool bit(const uint64_t* row, int64_t k) { return (row[k / kWordBits] >> (k % kWordBits)) & 1u; }
uint64_t mask(int64_t k) { return uint64_t{1} << (k % kWordBits); }

}  // namespace

PackedBinary pack_binary(const float* w, int64_t rows, int64_t cols) {
  check_shape("pack_binary", rows, cols);
  PackedBinary p{rows, cols, packed_words_per_row(cols), {}};
  p.words.assign(static_cast<size_t>(rows * p.words_per_row), 0);
  for (int64_t n = 0; n < rows; ++n) {
    uint64_t* row = p.words.data() + n * p.words_per_row;
    for (int64_t k = 0; k < cols; ++k) {
      const float v = w[n * cols + k];
      if (!std::isfinite(v))
        throw_bad_weight("pack_binary", n, k, v, "binary weights must be finite");
      if (!(v < 0.0f)) row[k / kWordBits] |= mask(k);  // 0 and -0 pack as +1
    }
  }
  return p;
}

PackedTernary pack_ternary(const float* w, int64_t rows, int64_t cols) {
  check_shape("pack_ternary", rows, cols);
  PackedTernary p{rows, cols, packed_words_per_row(cols), {}};
  p.words.assign(static_cast<size_t>(rows * 2 * p.words_per_row), 0);
  for (int64_t n = 0; n < rows; ++n) {
    uint64_t* row = p.words.data() + n * 2 * p.words_per_row;
    for (int64_t k = 0; k < cols; ++k) {
      const float v = w[n * cols + k];
      const int64_t word = 2 * (k / kWordBits);
      if (v == 1.0f) {
        row[word] |= mask(k);
      } else if (v == -1.0f) {
        row[word + 1] |= mask(k);
      } else if (v != 0.0f) {
        throw_bad_weight("pack_ternary", n, k, v,
                         "ternary weights must be exactly -1, 0 or +1 (round and clip with the "
                         "scale before packing)");
      }
    }
  }
  return p;
}

std::vector<float> unpack_binary(const BinaryView& w) {
  std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    const uint64_t* row = w.words + n * w.words_per_row;
    for (int64_t k = 0; k < w.cols; ++k) out[n * w.cols + k] = bit(row, k) ? 1.0f : -1.0f;
  }
  return out;
}

std::vector<float> unpack_ternary(const TernaryView& w) {
  std::vector<float> out(static_cast<size_t>(w.rows * w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    const uint64_t* row = w.words + n * 2 * w.words_per_row;
    for (int64_t k = 0; k < w.cols; ++k) {
      const uint64_t plus = row[2 * (k / kWordBits)], minus = row[2 * (k / kWordBits) + 1];
      const uint64_t m = mask(k);
      out[n * w.cols + k] = (plus & m) ? 1.0f : (minus & m) ? -1.0f : 0.0f;
    }
  }
  return out;
}

}  // namespace lmlab::kernels
