// Private header: not part of lmlab's API. The AVX512-VNNI dot step of the AVX-512 int8 kernels
// (avx512/onebit_avx512.h); include only from *_avx512vnni.cpp, the files compiled with
// -mavx512vnni.
#pragma once

#include "kernels/avx512/onebit_avx512.h"

namespace lmlab::kernels {
namespace {

// acc += the sum of 4 adjacent c (u8) * x (s8) in each int32 lane, in one vpdpbusd (exact).
struct DotVnni {
  static __m512i step(__m512i acc, __m512i c, __m512i x) { return _mm512_dpbusd_epi32(acc, c, x); }
};
using Avx512Vnni = Avx512Isa<DotVnni>;

}  // namespace
}  // namespace lmlab::kernels
