// Private header: not part of lmlab's API. The per-ISA one-bit kernels behind the table in
// include/lmlab/kernels/onebit.h (same signatures and contract); onebit.cpp picks among them.
// avx512vnni exists for the int8 kernels only (vpdpbusd); the others need no VNNI.
#pragma once

#include <cstdint>

#include "lmlab/kernels/packed.h"

namespace lmlab::kernels {

void binary_gemm_f32_scalar(const BinaryView& w, const float* x, int64_t batch, float* y,
                            int64_t row_begin, int64_t row_end);
void ternary_gemm_f32_scalar(const TernaryView& w, const float* x, int64_t batch, float* y,
                             int64_t row_begin, int64_t row_end);
void binary_gemm_i8_scalar(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                           int64_t row_begin, int64_t row_end);
void ternary_gemm_i8_scalar(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                            int64_t row_begin, int64_t row_end);

void binary_gemm_f32_avx2(const BinaryView& w, const float* x, int64_t batch, float* y,
                          int64_t row_begin, int64_t row_end);
void ternary_gemm_f32_avx2(const TernaryView& w, const float* x, int64_t batch, float* y,
                           int64_t row_begin, int64_t row_end);
void binary_gemm_i8_avx2(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                         int64_t row_begin, int64_t row_end);
void ternary_gemm_i8_avx2(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                          int64_t row_begin, int64_t row_end);

void binary_gemm_f32_avx512(const BinaryView& w, const float* x, int64_t batch, float* y,
                            int64_t row_begin, int64_t row_end);
void ternary_gemm_f32_avx512(const TernaryView& w, const float* x, int64_t batch, float* y,
                             int64_t row_begin, int64_t row_end);
void binary_gemm_i8_avx512(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                           int64_t row_begin, int64_t row_end);
void ternary_gemm_i8_avx512(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                            int64_t row_begin, int64_t row_end);

void binary_gemm_i8_avx512vnni(const BinaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                               int64_t row_begin, int64_t row_end);
void ternary_gemm_i8_avx512vnni(const TernaryView& w, const int8_t* x, int64_t batch, int32_t* y,
                                int64_t row_begin, int64_t row_end);

}  // namespace lmlab::kernels
