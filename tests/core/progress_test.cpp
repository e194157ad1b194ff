// Progress lines: counts, rate and ETA, and resumed (skipped) work kept out of the rate.
#include "lmlab/core/progress.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

// The plain lines of a Progress that reports on every call.
struct Recorder {
  std::vector<std::string> lines;
  lmlab::Progress::LineSink sink() {
    return [this](const std::string& l) { lines.push_back(l); };
  }
};

TEST(Progress, LineHasCountPercentAndEta) {
  Recorder rec;
  lmlab::Progress bar("points", 4, rec.sink(), 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  bar.advance(1, "loss 0.5");
  ASSERT_FALSE(rec.lines.empty());
  EXPECT_NE(rec.lines.back().find("points 1/4 (25%)"), std::string::npos) << rec.lines.back();
  EXPECT_NE(rec.lines.back().find(" eta "), std::string::npos) << rec.lines.back();
  EXPECT_NE(rec.lines.back().find("| loss 0.5"), std::string::npos) << rec.lines.back();
}

TEST(Progress, SkippedUnitsCountAsDoneButNotInTheRate) {
  Recorder rec;
  lmlab::Progress bar("points", 10, rec.sink(), 0.0);
  bar.skip(6);
  ASSERT_FALSE(rec.lines.empty());
  // Nothing was computed yet: no rate, so no ETA (six instant units would promise seconds).
  EXPECT_NE(rec.lines.back().find("points 6/10 (60%) 0/s"), std::string::npos) << rec.lines.back();
  EXPECT_EQ(rec.lines.back().find(" eta "), std::string::npos) << rec.lines.back();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  bar.advance(1);
  // One unit in >= 0.2 s: the rate is at most 5/s, not (6 + 1) / 0.2 = 35/s.
  const std::string& l = rec.lines.back();
  const auto at = l.find("(70%) ");
  ASSERT_NE(at, std::string::npos) << l;
  EXPECT_LE(std::stod(l.substr(at + 6)), 5.0) << l;
  EXPECT_NE(l.find(" eta "), std::string::npos) << l;
}

TEST(Progress, SkipNeverPassesTheTotal) {
  Recorder rec;
  lmlab::Progress bar("points", 3, rec.sink(), 0.0);
  bar.skip(5);
  bar.finish();
  EXPECT_NE(rec.lines.back().find("points 3/3 (100%)"), std::string::npos) << rec.lines.back();
}

}  // namespace

// Times far beyond a human scale still read as hours, never as a negative number.
TEST(Progress, HugeTimesStayPositive) {
  EXPECT_EQ(lmlab::Progress::format_seconds(59.94), "59.9s");
  EXPECT_EQ(lmlab::Progress::format_seconds(3 * 3600 + 5 * 60), "3h05m");
  EXPECT_EQ(lmlab::Progress::format_seconds(3e9), "833333h20m");
  EXPECT_EQ(lmlab::Progress::format_seconds(2.7e15), "7.5e+11h");
  Recorder rec;
  lmlab::Progress bar("steps", INT64_MAX, rec.sink(), 0.0);
  bar.advance(1000);
  EXPECT_NE(rec.lines.back().find("1000/9223372036854775807 (0%)"), std::string::npos) << rec.lines.back();
  EXPECT_EQ(rec.lines.back().find("eta -"), std::string::npos) << rec.lines.back();
}
