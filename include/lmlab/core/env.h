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

// Makes glibc keep freed memory in the process (mmap threshold 32 MiB, the most glibc allows, and
// trim threshold 1 GiB). By default every tensor above 128 KiB-32 MiB is a fresh mmap whose pages
// fault in on each use: a training loop of small models then spends most of its time clearing
// pages (4x slower two-layer nets, measured). Process-wide: called by the CLI and the benchmarks,
// not by the library itself.
void keep_freed_memory();

// LibTorch's OpenMP workers spin-wait after each parallel region (libgomp's default) while
// OpenBLAS runs its own threads, so on 2 cores two threads run slower than one. libgomp reads its
// settings once, when it loads, before main(): a program that wants others must set them and start
// again. When OMP_WAIT_POLICY is unset this sets OMP_WAIT_POLICY=passive with a short spin,
// GOMP_SPINCOUNT=10000 (unless set), and re-executes the program (/proc/self/exe) with the same
// arguments; when OMP_WAIT_POLICY is set (by the user, or by the first pass) it returns at once.
// Measured on `lmlab reproduce --quick` (docs/foundation.md): 10m15s with libgomp's defaults,
// 4m43s passive, 4m11s passive with the short spin, which keeps many small parallel regions fast.
// Process-wide: called first thing by the CLI and the benchmarks, not by the library. If the
// re-execution fails, the program goes on as it is.
void use_passive_omp_wait(char** argv);

// Ordered (name, value) pairs: lmlab version, git sha, build type, LibTorch version, BLAS library,
// threads, BLAS threads, OpenMP wait policy, SIMD detected and in use, CPU model, hostname.
std::vector<std::pair<std::string, std::string>> environment_info();

}  // namespace lmlab
