// Environment description (include/lmlab/core/env.h).
#include "lmlab/core/env.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

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

std::string cpu_model() {
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

}  // namespace

int set_threads(int n) {
  LMLAB_CHECK(n >= 1, UsageError, "--threads must be at least 1, got ", n);
  at::set_num_threads(n);
  set_blas_threads(n);
  return at::get_num_threads();
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
      {"omp_wait", std::string(std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset") +
                       ", GOMP_SPINCOUNT " + (std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "unset")},
      {"simd_detected", simd_level_name(detected_simd_level())},
      {"simd_in_use", simd_level_name(active_simd_level())},
      {"cpu", cpu_model()},
      {"hostname", host},
  };
}

}  // namespace lmlab
