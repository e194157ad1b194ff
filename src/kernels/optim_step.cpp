// The choice of optimizer-pass table (include/lmlab/kernels/optim_step.h).
#include "lmlab/kernels/optim_step.h"

#include "kernels/kernel_tables.h"

namespace lmlab::kernels {

MomentumDots& MomentumDots::operator+=(const MomentumDots& o) {
  g_g += o.g_g, g_buffer_before += o.g_buffer_before, g_average_before += o.g_average_before;
  g_buffer += o.g_buffer, buffer_buffer += o.buffer_buffer;
  return *this;
}

const OptimKernels& optim_kernels_for(SimdLevel level) {
  return table_for_level(level, "optim_kernels_for", kOptimScalar, kOptimAvx2, kOptimAvx2);
}

const OptimKernels& optim_kernels() {
  static const OptimKernels& table = optim_kernels_for(active_simd_level());
  return table;
}

}  // namespace lmlab::kernels
