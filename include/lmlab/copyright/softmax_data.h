// Synthetic softmax-regression data with a copyrighted block (P10, arXiv 2308.12247; the data is
// ours [ours], the paper has no experiment of its own at this level):
//   x* ~ N(0, I_D);  A_k entries ~ N(0, scale^2 / D);  b_k = softmax(A_k x* + noise e_k),
//   e_k ~ N(0, I_N); the first `copyrighted` of the K tasks are marked copyrighted.
// All tasks share x*, so copyrighted and other tasks pull x the same way and protection has a
// price in L_rest. Shapes as softmax_regression.h: A [K,N,D], b [K,N], copyrighted [K], float64.
#pragma once

#include <cstdint>

#include "lmlab/copyright/softmax_regression.h"

namespace lmlab::copyright {

struct SoftmaxDataOptions {
  TORCH_ARG(int64_t, tasks) = 8;        // K >= 2
  TORCH_ARG(int64_t, copyrighted) = 2;  // in [1, K - 1]
  TORCH_ARG(int64_t, rows) = 16;        // N >= 2
  TORCH_ARG(int64_t, dim) = 8;          // D >= 1
  TORCH_ARG(double, scale) = 2.0;       // > 0, the typical size of a logit A_k x*
  TORCH_ARG(double, noise) = 0.5;       // >= 0
};

// UsageError naming the value unless the options are in range (sizes also below 4096).
void check_softmax_data_options(const SoftmaxDataOptions& options);
// The data set of `options`, drawn from a private generator seeded with `seed`.
SoftmaxRegressionData make_softmax_data(const SoftmaxDataOptions& options, uint64_t seed);

}  // namespace lmlab::copyright
