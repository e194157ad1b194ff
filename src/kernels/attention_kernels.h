// Private header: not part of lmlab's API. The per-ISA flash-attention kernels behind the table
// in include/lmlab/kernels/attention.h (same signatures and contract); attention.cpp picks one.
#pragma once

#include <cstdint>

#include "lmlab/kernels/attention.h"

namespace lmlab::kernels {

void flash_forward_scalar(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end);
void flash_backward_scalar(const FlashBackwardArgs& args);
void flash_forward_avx2(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end);
void flash_backward_avx2(const FlashBackwardArgs& args);
void flash_forward_avx512(const FlashForwardArgs& args, int64_t row_begin, int64_t row_end);
void flash_backward_avx512(const FlashBackwardArgs& args);

}  // namespace lmlab::kernels
