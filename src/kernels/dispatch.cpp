// SIMD level detection, the LMLAB_SIMD override and the separate AVX512-VNNI check
// (include/lmlab/kernels/dispatch.h). Each level checks every ISA flag its kernel files are built with.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lmlab/kernels/dispatch.h"

namespace lmlab {

SimdLevel detected_simd_level() {
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    if (!avx2) return SimdLevel::Scalar;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
      return SimdLevel::AVX512;
    return SimdLevel::AVX2;
  }();
  return level;
}

bool cpu_has_avx512_vnni() {
  static const bool vnni =
      detected_simd_level() == SimdLevel::AVX512 && __builtin_cpu_supports("avx512vnni");
  return vnni;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::AVX2: return "avx2";
    case SimdLevel::AVX512: return "avx512";
  }
  return "unknown";
}

SimdLevel resolve_simd_level(const char* requested, SimdLevel detected, std::string* warning) {
  if (warning) warning->clear();
  if (!requested || !*requested) return detected;
  const std::string want = requested;
  std::string problem = " is unknown (use scalar, avx2 or avx512)";
  for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512}) {
    if (want != simd_level_name(l)) continue;
    if (l <= detected) return l;
    problem = " is not supported by this CPU";
  }
  if (warning)
    *warning = "LMLAB_SIMD=" + want + problem + "; using " + simd_level_name(detected);
  return detected;
}

SimdLevel active_simd_level() {
  static const SimdLevel level = [] {
    std::string warning;
    const SimdLevel l = resolve_simd_level(std::getenv("LMLAB_SIMD"), detected_simd_level(), &warning);
    if (!warning.empty()) std::fprintf(stderr, "lmlab: warning: %s\n", warning.c_str());
    return l;
  }();
  return level;
}

}  // namespace lmlab
