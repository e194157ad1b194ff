// Private header: not part of lmlab's API. Loop structure shared by the SIMD one-bit kernels.
// X [B x K] is cut into blocks of up to kBlockRows rows, a block into tiles of up to kTileRows rows
// that share each weight word they read, and K into panels small enough that a tile's slice of X
// stays in L1 while every weight row of the panel streams past it.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lmlab/kernels/packed.h"

namespace lmlab::kernels {
// Anonymous: each ISA's translation units get their own copy, compiled with their own flags, so
// the linker can never pick a copy built for another ISA.
namespace {

constexpr int kBlockRows = 16;
constexpr int kTileRows = 4;
constexpr int64_t kPanelBytes = 16 * 1024;  // of X per tile: half of a 32 KiB L1 data cache

// Rows first .. first + count - 1 of X. Full 64-column words are read in place; the last partial
// word of each row is copied to a zero-padded buffer, so vector loads never pass the end of a row
// and padding columns add exactly zero whatever the padding weight bits hold.
template <typename T>
struct BatchBlock {
  int64_t first = 0;
  int count = 0;
  int64_t full_words = 0;  // K / 64
  bool has_tail = false;   // K % 64 != 0
  const T* rows[kBlockRows] = {};
  alignas(64) T tail[kBlockRows][kWordBits];
};

// Words [begin, end) of a row; word full_words, if present, is the padded tail.
struct WordRange {
  int64_t begin, end;
};

// One bit-plane of a weight row: word w is words[w * stride] (binary: stride 1; ternary: 2).
struct Plane {
  const uint64_t* words;
  int64_t stride;
};
// A row whose bits are all set (stride 0 repeats the word): masked sums over it give sum_k x[b][k].
const uint64_t kAllBits = ~uint64_t{0};
constexpr Plane kAllBitsPlane{&kAllBits, 0};

// Calls body(block) for each block of rows of X [batch x cols].
template <typename T, typename Body>
void for_each_batch_block(const T* x, int64_t batch, int64_t cols, Body&& body) {
  BatchBlock<T> blk;
  blk.full_words = cols / kWordBits;
  const int64_t rem = cols % kWordBits;
  blk.has_tail = rem != 0;
  for (int64_t b0 = 0; b0 < batch; b0 += kBlockRows) {
    blk.first = b0;
    blk.count = static_cast<int>(batch - b0 < kBlockRows ? batch - b0 : kBlockRows);
    for (int i = 0; i < blk.count; ++i) {
      blk.rows[i] = x + (b0 + i) * cols;
      if (!blk.has_tail) continue;
      std::memcpy(blk.tail[i], blk.rows[i] + blk.full_words * kWordBits, rem * sizeof(T));
      std::memset(blk.tail[i] + rem, 0, (kWordBits - rem) * sizeof(T));
    }
    body(static_cast<const BatchBlock<T>&>(blk));
  }
}

// Calls tile(t0, std::integral_constant<int, BT>{}) for the tiles t0 .. t0 + BT - 1 of a block.
template <typename T, typename Tile>
void for_each_tile(const BatchBlock<T>& blk, Tile&& tile) {
  for (int t0 = 0; t0 < blk.count; t0 += kTileRows) {
    switch (blk.count - t0) {
      case 1: tile(t0, std::integral_constant<int, 1>{}); break;
      case 2: tile(t0, std::integral_constant<int, 2>{}); break;
      case 3: tile(t0, std::integral_constant<int, 3>{}); break;
      default: tile(t0, std::integral_constant<int, kTileRows>{}); break;
    }
  }
}

// Calls word(slot, w, xs) for every word w in `range` of the tile's rows, in groups of Step words
// (slot = position in the group, for separate accumulators), xs[i] = the 64 columns of row t0 + i.
template <int BT, int Step, typename T, typename Word>
void for_each_word(const BatchBlock<T>& blk, int t0, WordRange range, Word&& word) {
  const T* xs[BT];
  auto point = [&](int64_t w) {
    for (int i = 0; i < BT; ++i) xs[i] = blk.rows[t0 + i] + w * kWordBits;
  };
  const int64_t full_end = range.end < blk.full_words ? range.end : blk.full_words;
  int64_t w = range.begin;
  for (; w + Step <= full_end; w += Step)
    for (int g = 0; g < Step; ++g) {
      point(w + g);
      word(g, w + g, xs);
    }
  for (; w < full_end; ++w) {
    point(w);
    word(0, w, xs);
  }
  if (range.end <= blk.full_words) return;
  for (int i = 0; i < BT; ++i) xs[i] = blk.tail[t0 + i];
  word(0, blk.full_words, xs);
}

// The loops of every SIMD one-bit kernel, Y [batch x y_cols] row-major. Per block of X:
// offset(blk, t0, bt, all_words, off) fills off[0 .. bt) for each tile; then per panel of words,
// per tile and per weight row n in [row_begin, row_end), value(blk, t0, bt, panel, n, v) fills
// v[0 .. bt), and y[b][n] = (v_panel0 - off) + v_panel1 + ... for the tile's rows b.
// bt is std::integral_constant<int, BT>. Every y[b][n] is summed in the same order whatever the
// row range, so splitting rows across calls changes no bit.
template <typename T, typename Out, typename Offset, typename Value>
void gemm_blocks(const T* x, int64_t batch, int64_t cols, Out* y, int64_t y_cols, int64_t row_begin,
                 int64_t row_end, Offset&& offset, Value&& value) {
  for_each_batch_block(x, batch, cols, [&](const BatchBlock<T>& blk) {
    const int64_t words = blk.full_words + (blk.has_tail ? 1 : 0);
    Out off[kBlockRows];
    for_each_tile(blk, [&](int t0, auto bt) {
      offset(blk, t0, bt, WordRange{0, words}, off + t0);
    });
    const int tile_rows = blk.count < kTileRows ? blk.count : kTileRows;
    const int64_t panel = kPanelBytes / (tile_rows * kWordBits * static_cast<int64_t>(sizeof(T)));
    int64_t w0 = 0;
    do {  // at least once, so that K = 0 writes y = 0
      const WordRange range{w0, w0 + panel < words ? w0 + panel : words};
      for_each_tile(blk, [&](int t0, auto bt) {
        for (int64_t n = row_begin; n < row_end; ++n) {
          Out v[kTileRows];
          value(blk, t0, bt, range, n, v);
          for (int i = 0; i < bt; ++i) {
            Out& out = y[(blk.first + t0 + i) * y_cols + n];
            out = w0 == 0 ? v[i] - off[t0 + i] : out + v[i];
          }
        }
      });
    } while ((w0 += panel) < words);
  });
}

}  // namespace
}  // namespace lmlab::kernels
