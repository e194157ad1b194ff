// The scalar optimizer passes (include/lmlab/kernels/optim_step.h): the fused momentum update and
// step of optim_step_impl.h on one lane with std::fma, and the Gaussian draw pair by pair with
// libm's log, sin and cos; fallback and test oracle of optim_avx2.cpp.
#include <algorithm>

#include "kernels/kernel_tables.h"
#include "kernels/optim_step_impl.h"
#include "kernels/scalar/vec_scalar.h"

namespace lmlab::kernels {
namespace {

GaussianDots gaussian_fill_scalar(float* out, const float* x, int64_t n, uint64_t offset, uint64_t key) {
  uint32_t k0, k1;
  optim::stream_keys(key, &k0, &k1);
  GaussianDots dots;
  for (int64_t i = 0; i < n; i += 2) {
    float z[2];
    optim::gaussian_pair((offset + i) / 2, k0, k1, &z[0], &z[1]);
    optim::store_draws(out + i, x == nullptr ? nullptr : x + i, z, std::min<int64_t>(2, n - i), dots);
  }
  return dots;
}

}  // namespace

const OptimKernels kOptimScalar{"scalar", SimdLevel::Scalar, optim::momentum_update<vec::Scalar, vec::Scalar>,
                                optim::step_along<vec::Scalar, vec::Scalar>, optim::adamw_update<vec::Scalar, vec::Scalar>,
                                gaussian_fill_scalar};

}  // namespace lmlab::kernels
