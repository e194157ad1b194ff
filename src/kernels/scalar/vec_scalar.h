// Private header: not part of lmlab's API. The scalar "vector" type (one lane, std::exp) over
// which the attention kernels (flash_attention_impl.h, ntk_attention_impl.h) are instantiated in
// scalar/*.cpp; the fallback and test oracle of the SIMD levels.
#pragma once

#include <algorithm>
#include <cmath>

namespace lmlab::kernels::vec {

struct Scalar {
  static constexpr int W = 1, kMR = 4, kNV = 4;
  using R = float;
  static R zero() { return 0.f; }
  static R set1(float x) { return x; }
  static R load(const float* p) { return *p; }
  static void store(float* p, R x) { *p = x; }
  static R fmadd(R a, R b, R c) { return a * b + c; }
  static R add(R a, R b) { return a + b; }
  static R mul(R a, R b) { return a * b; }
  static R sub(R a, R b) { return a - b; }
  static R div(R a, R b) { return a / b; }
  static R max(R a, R b) { return std::max(a, b); }
  static R sqrt(R x) { return std::sqrt(x); }
  static R exp(R x) { return std::exp(x); }
  static float reduce_max(R x) { return x; }
  static float reduce_add(R x) { return x; }
};

}  // namespace lmlab::kernels::vec
