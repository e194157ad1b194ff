// Byte tokenizer: lossless round trip over all 256 byte values, and bad-token errors.
#include <gtest/gtest.h>

#include "lmlab/core/error.h"
#include "lmlab/data/tokenizer.h"

using namespace lmlab;

TEST(ByteTokenizer, RoundTripsAllByteValues) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  all += all;  // and repeated, including embedded NUL bytes
  const ByteTokenizer tok;
  const torch::Tensor tokens = tok.encode(all);
  EXPECT_EQ(tok.vocab_size(), 256);
  EXPECT_EQ(tokens.scalar_type(), torch::kInt64);
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{512}));
  EXPECT_TRUE(torch::equal(tokens.slice(0, 0, 256), torch::arange(256, torch::kInt64)));
  EXPECT_EQ(tok.decode(tokens), all);
  EXPECT_EQ(tok.decode(tokens.view({2, 256}).to(torch::kInt32)), all);
  EXPECT_EQ(tok.decode(tok.encode("")), "");
  EXPECT_EQ(tok.decode(tok.encode("h\xc3\xa9llo")), "h\xc3\xa9llo");  // UTF-8 passes as bytes
}

TEST(ByteTokenizer, DecodeRejectsOutOfRangeAndNonIntegerTokens) {
  const ByteTokenizer tok;
  try {
    tok.decode(torch::tensor({65, 256}, torch::kInt64));
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("token 256"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tok.decode(torch::tensor({-1}, torch::kInt64)), UsageError);
  EXPECT_THROW(tok.decode(torch::tensor({65.0f})), UsageError);
}
