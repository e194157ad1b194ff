// Byte-level tokenizer (include/lmlab/data/tokenizer.h): bytes <-> int64 tokens 0..255.
#include "lmlab/data/tokenizer.h"

#include <algorithm>

#include "lmlab/core/error.h"

namespace lmlab {

torch::Tensor ByteTokenizer::encode(const std::string& text) const {
  torch::Tensor bytes = torch::empty({static_cast<int64_t>(text.size())}, torch::kUInt8);
  std::copy(text.begin(), text.end(), reinterpret_cast<char*>(bytes.data_ptr<uint8_t>()));
  return bytes.to(torch::kInt64);
}

std::string ByteTokenizer::decode(const torch::Tensor& tokens) const {
  LMLAB_CHECK(tokens.scalar_type() == torch::kInt64 || tokens.scalar_type() == torch::kInt32,
              UsageError, "ByteTokenizer::decode: tokens have dtype ", tokens.scalar_type(),
              ", expected int64 or int32");
  const torch::Tensor flat = tokens.to(torch::kInt64).reshape({-1}).contiguous();
  if (flat.numel() == 0) return {};
  const int64_t lo = flat.min().item<int64_t>();
  const int64_t hi = flat.max().item<int64_t>();
  LMLAB_CHECK(lo >= 0 && hi < kVocabSize, UsageError, "ByteTokenizer::decode: token ",
              lo < 0 ? lo : hi, " is outside the byte vocabulary 0..", kVocabSize - 1);
  const torch::Tensor bytes = flat.to(torch::kUInt8);
  const auto* data = reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>());
  return std::string(data, data + bytes.numel());
}

}  // namespace lmlab
