// SIMD levels for lmlab's hand-written kernels: detected once from the CPU, overridable with the
// environment variable LMLAB_SIMD=scalar|avx2|avx512 (DESIGN.md "Kernels"). A level the CPU lacks,
// or an unknown name, falls back to the best supported level with a warning on stderr.
#pragma once

#include <string>

namespace lmlab {

enum class SimdLevel { Scalar = 0, AVX2 = 1, AVX512 = 2 };

// The best level this CPU supports. AVX2 means AVX2, FMA, BMI2 and POPCNT; AVX512 means those
// plus AVX-512 F, BW, VL and DQ.
SimdLevel detected_simd_level();
// Whether the CPU has AVX512-VNNI on top of level AVX512 (kernels that use it check this apart).
bool cpu_has_avx512_vnni();
// The level for an LMLAB_SIMD value (nullptr or "" when unset) on a CPU whose best level is
// `detected`: the requested level if known and supported, else `detected` with *warning (if given)
// set to a message naming the value and the level used instead; *warning is cleared otherwise.
SimdLevel resolve_simd_level(const char* requested, SimdLevel detected, std::string* warning);
// The level kernels use: detected, or LMLAB_SIMD when set and supported. Read once per process.
SimdLevel active_simd_level();
// "scalar", "avx2", "avx512".
const char* simd_level_name(SimdLevel level);

}  // namespace lmlab
