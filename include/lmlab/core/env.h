// The environment a run executes in: versions, BLAS, threads, SIMD, CPU. Recorded in every
// summary.json and printed by `lmlab info`.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lmlab {

// Sets LibTorch's intra-op thread count and, when the BLAS is OpenBLAS, its thread count (n >= 1);
// returns LibTorch's count in effect.
int set_threads(int n);

// Ordered (name, value) pairs: lmlab version, git sha, build type, LibTorch version, BLAS library,
// threads, BLAS threads, SIMD detected and in use, CPU model, hostname.
std::vector<std::pair<std::string, std::string>> environment_info();

}  // namespace lmlab
