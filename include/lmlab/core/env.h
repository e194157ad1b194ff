// The environment a run executes in: versions, BLAS, threads, SIMD, CPU. Recorded in every
// summary.json and printed by `lmlab info`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lmlab {

// The most threads set_threads accepts per core of the machine.
constexpr int kThreadsPerCore = 4;
// The machine's cores (at least 1) and the most threads set_threads accepts: kThreadsPerCore x cores.
int machine_cores();
int max_threads();

// Sets LibTorch's intra-op thread count and, when the BLAS is OpenBLAS, its thread count
// (1 <= n <= max_threads(), else a UsageError); returns LibTorch's count in effect.
int set_threads(int n);

// The memory (bytes) a run may plan to use: set_memory_limit's value (the CLI's --max-memory), by
// default 80% of the machine's physical memory.
uint64_t memory_limit();
// 0 restores the default.
void set_memory_limit(uint64_t bytes);
// UsageError when `bytes`, an estimate of what `what` needs, is above memory_limit(): the message
// names both, and `fix` says what to lower. Called before the allocation, so a config that asks
// for more than the machine has is refused at once rather than stopped by the OOM killer.
void check_memory(const std::string& what, double bytes, const std::string& fix);
// "16G", "512M", "64k" or a plain number of bytes (binary units, case-insensitive), for --max-memory;
// UsageError on anything else.
uint64_t parse_bytes(const std::string& text);
// `bytes` for people: "1.5 GiB".
std::string format_bytes(double bytes);

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
