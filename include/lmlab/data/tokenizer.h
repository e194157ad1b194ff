// Byte-level tokenizer: token = byte value, vocabulary 256, no special tokens. Lossless for any
// byte string (UTF-8 or not), so bits per token are bits per byte.
//
// Shapes: encode gives [N] int64 for an N-byte string; decode takes int64/int32 tokens of any
// shape, read in row-major order.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace lmlab {

class ByteTokenizer {
 public:
  static constexpr int64_t kVocabSize = 256;
  int64_t vocab_size() const { return kVocabSize; }

  torch::Tensor encode(const std::string& text) const;
  // UsageError for a non-integer tensor or a token outside 0..255.
  std::string decode(const torch::Tensor& tokens) const;
};

}  // namespace lmlab
