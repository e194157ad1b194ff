// Reader for the IDX format of MNIST-style datasets (LeCun et al., "THE MNIST DATABASE").
//
// Layout, all integers big-endian: a 4-byte magic 0x00 0x00 <type> <ndims>, then ndims uint32
// sizes, then prod(sizes) data bytes and nothing after them. Only type 0x08 (unsigned byte) is
// supported, the type of MNIST and Fashion-MNIST: images have magic 2051 (3 dims: N, rows, cols),
// labels 2049 (1 dim: N). The file may be gzip-compressed or plain (zlib reads both).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace lmlab {

inline constexpr int32_t kIdxImagesMagic = 2051;  // unsigned byte, 3 dimensions
inline constexpr int32_t kIdxLabelsMagic = 2049;  // unsigned byte, 1 dimension

// The whole file as a uint8 tensor shaped as its header says. `expected_magic` (kIdxImagesMagic,
// kIdxLabelsMagic) must match exactly; 0 accepts any unsigned-byte IDX file of 1 to 4 dimensions.
// DataError naming the file for: missing or unreadable file, wrong magic, data shorter than the
// header promises (truncated), bytes after the data (trailing garbage), corrupt gzip stream.
torch::Tensor read_idx(const std::string& path, int32_t expected_magic = 0);

}  // namespace lmlab
