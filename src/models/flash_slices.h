// Private header: not part of lmlab's API. The flash kernels' view of one attention call
// (lmlab/kernels/flash_attention.h layout), shared by flash_attention and NTK-Attention's wrapper.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "lmlab/kernels/flash_attention.h"

namespace lmlab {

// q [B,H,T,D], k [B,H,S,D] as [B*H, rows, Dp] slices: head dim padded to Dp (a multiple of 16) and
// keys to Sp (a multiple of 64) with zeros.
struct FlashSlices {
  int64_t b, h, t, s, d, sp, dp;
  double scale;  // 1/sqrt(D)
  FlashSlices(const torch::Tensor& q, const torch::Tensor& k)
      : b(q.size(0)), h(q.size(1)), t(q.size(2)), s(k.size(2)), d(q.size(3)),
        sp(round_up(s, kernels::kFlashKeyTile)), dp(round_up(d, kernels::kFlashHeadDimAlign)),
        scale(1.0 / std::sqrt(static_cast<double>(d))) {}
  static int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
  // [B,H,rows,D] -> contiguous [B*H, rows_to, Dp]
  torch::Tensor pad(const torch::Tensor& x, int64_t rows_to) const {
    return torch::constant_pad_nd(x, {0, dp - d, 0, rows_to - x.size(2)})
        .reshape({b * h, rows_to, dp}).contiguous();
  }
  // [B*H, Sp, Dp] -> [B*H, Sp/64, Dp, 64]: each key tile transposed
  torch::Tensor tiles_transposed(const torch::Tensor& x) const {
    return x.view({b * h, sp / kernels::kFlashKeyTile, kernels::kFlashKeyTile, dp})
        .transpose(2, 3).contiguous();
  }
  // Calls f(bh, row_begin, row_end) for every slice bh and query tile of kFlashQueryTile rows, the
  // (slice, tile) work items spread over threads (at::parallel_for). A row's arithmetic does not
  // depend on how the items are split, so neither do the results.
  template <class F>
  void for_each_query_tile(const F& f) const {
    constexpr int64_t rows = kernels::kFlashQueryTile;
    const int64_t tiles = (t + rows - 1) / rows;
    at::parallel_for(0, b * h * tiles, 1, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t row = item % tiles * rows;
        f(item / tiles, row, std::min(t, row + rows));
      }
    });
  }
  // contiguous [B*H, rows_to, Dp] -> [B,H,rows,D]
  torch::Tensor unpad(const torch::Tensor& x, int64_t rows) const {
    return x.narrow(1, 0, rows).narrow(2, 0, d).reshape({b, h, rows, d});
  }
};

}  // namespace lmlab
