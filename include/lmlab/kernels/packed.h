// Packed 1-bit (binary) and 2-bit (ternary) weight matrices for the P1 kernels (NOTES.md "P1":
// BitNet sign weights and BitNet b1.58 ternary weights), declared once here.
//
// W is [N rows x K cols] (N outputs, K inputs), row-major. Each row is words_per_row =
// ceil(K / 64) uint64_t words; bit k of a row is bit k % 64 (LSB first) of its word k / 64.
//
// Binary, 1 bit per weight: bit 1 = +1, bit 0 = -1. pack_binary maps w >= 0 (0 and -0 included)
// to +1 and w < 0 to -1.
// Ternary, 2 bits per weight, two bit-planes with the binary row layout: `plus` (bit set where
// w = +1) and `minus` (bit set where w = -1); neither set means 0; both set is invalid (kernel
// results are then unspecified). The planes of a row are interleaved word by word:
// row n = [plus_0, minus_0, plus_1, minus_1, ...], 2 * words_per_row words.
//
// Padding: the bits of columns K .. 64 * words_per_row - 1 in the last word of a row. pack_*
// writes them as 0; kernels and unpack_* ignore them whatever they hold.
//
// The owning structs hold their words in a std::vector; kernels take the non-owning views, so the
// words may also live elsewhere (for example in a tensor buffer) with the same layout.
#pragma once

#include <climits>
#include <cstdint>
#include <vector>

namespace lmlab::kernels {

constexpr int kWordBits = 64;               // weights per packed word (per plane)
constexpr int kBinaryBitsPerWeight = 1;
constexpr int kTernaryBitsPerWeight = 2;    // one bit in each plane
static_assert(CHAR_BIT == 8 && sizeof(uint64_t) * CHAR_BIT == kWordBits, "64-bit packed words");
static_assert(sizeof(float) == 4, "fp32 activations are IEEE single precision");

// Words per row of one plane for K columns: ceil(K / 64).
constexpr int64_t packed_words_per_row(int64_t cols) { return (cols + kWordBits - 1) / kWordBits; }
static_assert(packed_words_per_row(1) == 1 && packed_words_per_row(64) == 1 &&
              packed_words_per_row(65) == 2, "ceil(K / 64)");

// Non-owning views. words: rows * words_per_row (binary) or rows * 2 * words_per_row (ternary).
struct BinaryView {
  const uint64_t* words;
  int64_t rows, cols, words_per_row;
};
struct TernaryView {
  const uint64_t* words;
  int64_t rows, cols, words_per_row;  // words_per_row counts one plane
};

struct PackedBinary {
  int64_t rows = 0, cols = 0, words_per_row = 0;
  std::vector<uint64_t> words;  // rows * words_per_row
  BinaryView view() const { return {words.data(), rows, cols, words_per_row}; }
};

struct PackedTernary {
  int64_t rows = 0, cols = 0, words_per_row = 0;  // words_per_row counts one plane
  std::vector<uint64_t> words;                    // rows * 2 * words_per_row, planes interleaved
  TernaryView view() const { return {words.data(), rows, cols, words_per_row}; }
};

// Packs the signs of w [rows x cols] (row-major). Throws std::invalid_argument on a negative
// shape or a NaN/Inf weight (the message names its row, column and value).
PackedBinary pack_binary(const float* w, int64_t rows, int64_t cols);
// Packs w [rows x cols] whose values are exactly -1, 0 or +1 (the caller rounds and clips with its
// scale first). Throws std::invalid_argument on a negative shape or any other value, naming its
// row, column and value.
PackedTernary pack_ternary(const float* w, int64_t rows, int64_t cols);

// Row-major [rows x cols] floats in {-1, +1} or {-1, 0, +1}; padding bits are ignored.
std::vector<float> unpack_binary(const BinaryView& w);
std::vector<float> unpack_ternary(const TernaryView& w);

}  // namespace lmlab::kernels
