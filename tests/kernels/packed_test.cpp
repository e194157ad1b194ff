// Packed binary and ternary formats (include/lmlab/kernels/packed.h): layout, round trips,
// padding written as zero, and the errors for bad weights and shapes.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernel_test_support.h"

namespace lmlab::kernels::testing {
namespace {

TEST(Packed, BinaryLayoutIsLsbFirstWithOneBitForPlusOne) {
  std::vector<float> w(2 * 70, -1.0f);  // two rows, K = 70: words_per_row = 2
  w[0] = 1.0f;                         // row 0, col 0  -> word 0, bit 0
  w[65] = 0.5f;                        // row 0, col 65 -> word 1, bit 1
  w[70 + 63] = 2.0f;                   // row 1, col 63 -> word 2, bit 63
  const PackedBinary p = pack_binary(w.data(), 2, 70);
  EXPECT_EQ(p.words_per_row, 2);
  ASSERT_EQ(p.words.size(), 4u);
  EXPECT_EQ(p.words[0], 1u);
  EXPECT_EQ(p.words[1], 2u);
  EXPECT_EQ(p.words[2], uint64_t{1} << 63);
  EXPECT_EQ(p.words[3], 0u);
}

TEST(Packed, TernaryLayoutInterleavesPlusAndMinusWords) {
  std::vector<float> w(70, 0.0f);  // one row, K = 70
  w[2] = 1.0f;
  w[3] = -1.0f;
  w[64] = -1.0f;
  const PackedTernary p = pack_ternary(w.data(), 1, 70);
  EXPECT_EQ(p.words_per_row, 2);
  ASSERT_EQ(p.words.size(), 4u);  // plus_0, minus_0, plus_1, minus_1
  EXPECT_EQ(p.words[0], 4u);
  EXPECT_EQ(p.words[1], 8u);
  EXPECT_EQ(p.words[2], 0u);
  EXPECT_EQ(p.words[3], 1u);
}

TEST(Packed, ZeroAndNegativeZeroPackAsPlusOne) {
  const float w[] = {0.0f, -0.0f, -1e-30f, 1e-30f};
  EXPECT_EQ(unpack_binary(pack_binary(w, 1, 4).view()),
            (std::vector<float>{1.0f, 1.0f, -1.0f, 1.0f}));
  const float t[] = {-0.0f};
  EXPECT_EQ(unpack_ternary(pack_ternary(t, 1, 1).view()), std::vector<float>{0.0f});
}

TEST(Packed, RoundTripAndZeroPaddingOverAwkwardSizes) {
  for (int64_t k : kCols)
    for (int64_t n : {int64_t{1}, int64_t{3}}) {
      std::mt19937_64 rng(seed_for(k, n, 0, 20));
      std::vector<float> signs = random_f32(n * k, rng);
      const PackedBinary pb = pack_binary(signs.data(), n, k);
      for (float& v : signs) v = v < 0.0f ? -1.0f : 1.0f;
      EXPECT_EQ(unpack_binary(pb.view()), signs) << "K=" << k;
      const std::vector<float> t = random_weights(n * k, true, rng);
      const PackedTernary pt = pack_ternary(t.data(), n, k);
      EXPECT_EQ(unpack_ternary(pt.view()), t) << "K=" << k;
      EXPECT_EQ(pb.words.size(), static_cast<size_t>(n * packed_words_per_row(k)));
      EXPECT_EQ(pt.words.size(), static_cast<size_t>(2 * n * packed_words_per_row(k)));
      // Padding is zero: no bit at or beyond column K of any row.
      const uint64_t padding = k % 64 ? ~((uint64_t{1} << (k % 64)) - 1) : 0;
      for (int64_t r = 0; r < n; ++r) {
        EXPECT_EQ(pb.words[(r + 1) * pb.words_per_row - 1] & padding, 0u) << "K=" << k;
        EXPECT_EQ(pt.words[(r + 1) * 2 * pt.words_per_row - 2] & padding, 0u) << "K=" << k;
        EXPECT_EQ(pt.words[(r + 1) * 2 * pt.words_per_row - 1] & padding, 0u) << "K=" << k;
      }
    }
}

TEST(Packed, EmptyShapesPack) {
  EXPECT_TRUE(pack_binary(nullptr, 0, 5).words.empty());
  const PackedTernary p = pack_ternary(nullptr, 3, 0);
  EXPECT_EQ(p.words_per_row, 0);
  EXPECT_TRUE(unpack_ternary(p.view()).empty());
}

// Calls f, expects std::invalid_argument, and returns its message.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::invalid_argument";
  return "";
}

TEST(Packed, NonFiniteBinaryWeightsThrowNamingPlaceAndValue) {
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad : {std::nanf(""), inf, -inf}) {
    std::vector<float> w(2 * 5, 1.0f);
    w[5 + 3] = bad;
    const std::string msg = error_of([&] { pack_binary(w.data(), 2, 5); });
    EXPECT_NE(msg.find("row 1, col 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::isnan(bad) ? "nan" : bad > 0 ? "is inf" : "is -inf"),
              std::string::npos)
        << msg;
  }
}

TEST(Packed, NonTernaryWeightsThrowNamingPlaceAndValue) {
  for (float bad : {0.5f, -2.0f, 1e-7f, std::nanf(""), std::numeric_limits<float>::infinity()}) {
    std::vector<float> w(3 * 4, 0.0f);
    w[2 * 4 + 1] = bad;
    const std::string msg = error_of([&] { pack_ternary(w.data(), 3, 4); });
    EXPECT_NE(msg.find("row 2, col 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("exactly -1, 0 or +1"), std::string::npos) << msg;
    char text[32];
    std::snprintf(text, sizeof text, "is %.9g", static_cast<double>(bad));
    EXPECT_NE(msg.find(text), std::string::npos) << msg << " lacks " << text;
  }
}

TEST(Packed, NegativeShapesThrow) {
  EXPECT_NE(error_of([] { pack_binary(nullptr, -1, 3); }).find("-1 x 3"), std::string::npos);
  EXPECT_NE(error_of([] { pack_ternary(nullptr, 2, -4); }).find("2 x -4"), std::string::npos);
}

}  // namespace
}  // namespace lmlab::kernels::testing
