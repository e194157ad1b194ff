// Scalar flash attention of include/lmlab/kernels/attention.h: the algorithm of
// flash_attention_impl.h on one lane with std::exp; fallback and test oracle of the SIMD levels.
#include <algorithm>
#include <cmath>

#include "kernels/attention_kernels.h"
#include "kernels/flash_attention_impl.h"

namespace lmlab::kernels {
namespace {

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
  static R max(R a, R b) { return std::max(a, b); }
  static R exp(R x) { return std::exp(x); }
  static float reduce_max(R x) { return x; }
  static float reduce_add(R x) { return x; }
};

}  // namespace

void flash_forward_scalar(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end) {
  flash::forward<Scalar>(args, row_begin, row_end);
}
void flash_backward_scalar(const FlashBackwardArgs& args) { flash::backward<Scalar>(args); }

}  // namespace lmlab::kernels
