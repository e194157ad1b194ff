// Environment description (include/lmlab/core/env.h).
#include "lmlab/core/env.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <torch/torch.h>

#include "core/build_info.h"
#include "lmlab/core/error.h"
#include "lmlab/kernels/dispatch.h"

namespace lmlab {
namespace {

// The BLAS shared object actually mapped into this process (Debian selects it by alternatives).
std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("blas") != std::string::npos) return path;
  }
  return "unknown";
}

// OpenBLAS keeps its own thread pool (one thread per core by default), apart from LibTorch's.
// Its thread-count functions are looked up at run time: the BLAS behind LibTorch is chosen by
// Debian's alternatives and need not be OpenBLAS, in which case both return false / 0.
bool set_blas_threads(int n) {
  using Setter = void (*)(int);
  auto set = reinterpret_cast<Setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set != nullptr) set(n);
  return set != nullptr;
}

int blas_threads() {
  using Getter = int (*)();
  auto get = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get != nullptr ? get() : 0;
}

// How the BLAS runs its threads: OpenBLAS's openblas_get_parallel() is 0 (sequential), 1 (its own
// pthreads) or 2 (OpenMP: LibTorch's pool).
std::string blas_threading() {
  using Getter = int (*)();
  auto get = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  if (get == nullptr) return "unknown (not OpenBLAS)";
  switch (get()) {
    case 0: return "sequential";
    case 1: return "pthreads (its own threads beside LibTorch's; install libopenblas0-openmp and rebuild)";
    case 2: return "openmp (LibTorch's thread pool)";
  }
  return "unknown";
}

std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int machine_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

int max_threads() { return kThreadsPerCore * machine_cores(); }

int set_threads(int n) {
  LMLAB_CHECK(n >= 1, UsageError, "--threads must be at least 1, got ", n);
  // More threads than this only slow the work down, and starting thousands takes minutes.
  LMLAB_CHECK(n <= max_threads(), UsageError, "--threads ", n, " is more than ", kThreadsPerCore,
              " per core of this machine's ", machine_cores(), "; pass --threads ", machine_cores(),
              " (one per core) or fewer");
  at::set_num_threads(n);
  set_blas_threads(n);
  return at::get_num_threads();
}

namespace {
uint64_t g_memory_limit = 0;  // 0: the default
}

uint64_t memory_limit() {
  if (g_memory_limit > 0) return g_memory_limit;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(0.8 * static_cast<double>(pages) * page) : UINT64_MAX;
}

void set_memory_limit(uint64_t bytes) { g_memory_limit = bytes; }

void check_memory(const std::string& what, double bytes, const std::string& fix) {
  const double limit = static_cast<double>(memory_limit());
  LMLAB_CHECK(bytes <= limit, UsageError, what, " would need about ", format_bytes(bytes), ", more than the ",
              format_bytes(limit), " a run may use (--max-memory; default 80% of physical memory); ", fix);
}

uint64_t parse_bytes(const std::string& text) {
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  std::string unit = text.substr(std::min(used, text.size()));
  if (!unit.empty() && (unit.back() == 'b' || unit.back() == 'B')) unit.pop_back();  // "16GB", "16GiB"
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  const std::string units = "KMGT";
  const size_t power = unit.empty() ? 0 : unit.size() == 1 ? units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])))) + 1 : 0;
  const double bytes = value * std::pow(1024.0, static_cast<double>(power));
  LMLAB_CHECK(used > 0 && std::isfinite(value) && value > 0 && (unit.empty() || power > 0) && bytes >= 1 &&
                  bytes < 1.8e19,
              UsageError, "'", text, "' is not an amount of memory; write e.g. 16G, 512M or a number of bytes");
  return static_cast<uint64_t>(bytes);
}

std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int k = 0;
  while (bytes >= 1024 && k < 6) bytes /= 1024, ++k;
  char buf[48];
  std::snprintf(buf, sizeof buf, k == 0 ? "%.0f %s" : "%.4g %s", bytes, units[k]);
  return buf;
}

void use_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  setenv("GOMP_SPINCOUNT", "10000", 0);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the active policy
}

void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

std::vector<std::pair<std::string, std::string>> environment_info() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return {
      {"lmlab", build_version()},
      {"git_sha", build_git_sha()},
      {"build_type", build_type()},
      {"libtorch", TORCH_VERSION},
      {"blas", loaded_blas()},
      {"threads", std::to_string(at::get_num_threads())},
      {"blas_threads", blas_threads() > 0 ? std::to_string(blas_threads()) : "unknown (not OpenBLAS)"},
      {"blas_threading", blas_threading()},
      {"omp_wait", std::string(std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset") +
                       ", GOMP_SPINCOUNT " + (std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "unset")},
      {"simd_detected", simd_level_name(detected_simd_level())},
      {"simd_in_use", simd_level_name(active_simd_level())},
      {"cpu", cpu_model()},
      {"hostname", host},
  };
}

}  // namespace lmlab
