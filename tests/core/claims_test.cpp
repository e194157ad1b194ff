// Claims decide pass/fail from the comparator; NaN never passes.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/core/claims.h"

using namespace lmlab;

TEST(Claims, ComparatorsDecide) {
  EXPECT_TRUE(make_claim("a", "", 0.9, Comparator::GreaterEqual, 0.85).passed);
  EXPECT_FALSE(make_claim("a", "", 0.8, Comparator::GreaterEqual, 0.85).passed);
  EXPECT_TRUE(make_claim("a", "", 0.85, Comparator::GreaterEqual, 0.85).passed);
  EXPECT_FALSE(make_claim("a", "", 0.85, Comparator::Greater, 0.85).passed);
  EXPECT_TRUE(make_claim("a", "", -0.3, Comparator::Less, -0.25).passed);
  EXPECT_FALSE(make_claim("a", "", -0.25, Comparator::Less, -0.25).passed);
  EXPECT_TRUE(make_claim("a", "", -0.25, Comparator::LessEqual, -0.25).passed);
  EXPECT_STREQ(comparator_symbol(Comparator::LessEqual), "<=");
}

TEST(Claims, NanFailsEveryComparator) {
  for (Comparator c : {Comparator::Less, Comparator::LessEqual, Comparator::Greater, Comparator::GreaterEqual})
    EXPECT_FALSE(make_claim("nan", "", std::nan(""), c, 0.0).passed);
}

TEST(Claims, ShownInNamesThePlotOfTheEvidence) {
  EXPECT_EQ(make_claim("a", "", 1.0, Comparator::Less, 2.0).plot, "");
  EXPECT_EQ(make_claim("a", "", 1.0, Comparator::Less, 2.0).shown_in("loss").plot, "loss");
}
