// Private header: not part of lmlab's API. The per-ISA NTK-Attention kernels behind the table in
// include/lmlab/kernels/ntk_attention.h (same signatures and contract); ntk_attention.cpp picks one.
#pragma once

#include <cstdint>

#include "lmlab/kernels/ntk_attention.h"

namespace lmlab::kernels {

void ntk_forward_scalar(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end);
void ntk_backward_scalar(const NtkBackwardArgs& args);
void ntk_forward_avx2(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end);
void ntk_backward_avx2(const NtkBackwardArgs& args);
void ntk_forward_avx512(const NtkForwardArgs& args, int64_t row_begin, int64_t row_end);
void ntk_backward_avx512(const NtkBackwardArgs& args);

}  // namespace lmlab::kernels
