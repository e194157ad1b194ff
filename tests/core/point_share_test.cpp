// Sweep points shared by several run contexts (RunContext::share_points), over an in-memory share:
// claims, pending rows, waiting inside a point, failures, and adopting other processes' points.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "lmlab/core/error.h"
#include "lmlab/core/run.h"
#include "support/temp_dir.h"

namespace lmlab {
namespace {

namespace fs = std::filesystem;

// The share of processes that live in one test: a claim is the first call, a point its line.
class MemoryShare : public PointShare {
 public:
  bool claim(const std::string& key) override { return claims_[key]++ == 0; }
  std::optional<std::string> finished(const std::string& key) override {
    LMLAB_CHECK(!failed_.count(key), DataError, "sweep point ", key, " failed on another rank: ", failed_[key]);
    if (!lines_.count(key)) return std::nullopt;
    return lines_.at(key);
  }
  void publish(const std::string& key, const std::string& line) override { lines_[key] = line; }
  void publish_failure(const std::string& key, const std::string& error) override { failed_[key] = error; }

  std::map<std::string, int> claims_;
  std::map<std::string, std::string> lines_, failed_;
};

class PointShareTest : public test_support::TempDirTest {
 protected:
  // A run context in DIR/name sharing `share`.
  RunContext context(const std::string& name, PointShare* share, bool adopt) {
    fs::create_directories(dir_ / name);
    RunContext ctx((dir_ / name).string(), Config::from_toml("", "test"), 1, false);
    ctx.share_points(share, adopt);
    return ctx;
  }

  static size_t lines_in(const fs::path& file) {
    std::ifstream in(file);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
  }

  static Row point(double x) { return Row{{"x", x}}; }
};

TEST_F(PointShareTest, APointAnotherProcessClaimedComesBackPendingUntilItIsPublished) {
  MemoryShare share;
  RunContext a = context("a", &share, true), b = context("b", &share, false);
  int computed_a = 0, computed_b = 0;
  EXPECT_EQ(row_number(a.sweep_point("p0", [&] { return ++computed_a, point(1); }), "x"), 1);
  // b: p0 is finished elsewhere, p1 is a's (claimed but not finished), p2 is b's.
  EXPECT_TRUE(share.claim("p1"));
  EXPECT_EQ(row_number(b.sweep_point("p0", [&] { return ++computed_b, point(-1); }), "x"), 1);
  const Row pending = b.sweep_point("p1", [&] { return ++computed_b, point(-1); });
  EXPECT_EQ(row_number(b.sweep_point("p2", [&] { return ++computed_b, point(3); }), "x"), 3);
  EXPECT_EQ(computed_b, 1) << "b computed p2 only";
  EXPECT_EQ(b.pending(), std::set<std::string>{"p1"});
  try {
    row_number(pending, "x");
    ADD_FAILURE() << "reading a pending row must throw";
  } catch (const PointPending& p) {
    EXPECT_EQ(p.key(), "p1");
  }
  EXPECT_THROW(column({point(0), pending}, "x"), PointPending);
  EXPECT_TRUE(share.finished("p2").has_value()) << "b published its point";

  // a adopts b's point into its points.jsonl; b keeps only what it computed.
  EXPECT_EQ(row_number(a.sweep_point("p2", [&] { return ++computed_a, point(-1); }), "x"), 3);
  EXPECT_EQ(computed_a, 1);
  EXPECT_EQ(lines_in(dir_ / "a" / "points.jsonl"), 2u);
  EXPECT_EQ(lines_in(dir_ / "b" / "points.jsonl"), 1u);
  EXPECT_FALSE(a.point_failed());
  EXPECT_FALSE(b.point_failed());
}

TEST_F(PointShareTest, InsideAPointAPendingPointIsWaitedFor) {
  MemoryShare share;
  RunContext a = context("a", &share, true);
  ASSERT_TRUE(share.claim("inner"));
  share.publish("inner", R"({"key":"inner","row":{"x":7.0},"metrics":[]})");
  const Row outer = a.sweep_point("outer", [&] {
    return point(row_number(a.sweep_point("inner", [] { return Row{{"x", -1.0}}; }), "x") + 1);
  });
  EXPECT_EQ(row_number(outer, "x"), 8);
  EXPECT_TRUE(a.pending().empty());
}

TEST_F(PointShareTest, AFailureIsPublishedAndReachesTheOtherProcess) {
  MemoryShare share;
  RunContext a = context("a", &share, true), b = context("b", &share, false);
  EXPECT_THROW(a.sweep_point("p0", []() -> Row { throw DataError("no data"); }), DataError);
  EXPECT_TRUE(a.point_failed());
  EXPECT_EQ(share.failed_.at("p0"), "no data");
  try {
    b.sweep_point("p0", [] { return Row{}; });
    ADD_FAILURE() << "the other process must see the failure";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("failed on another rank: no data"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(b.point_failed());
}

TEST_F(PointShareTest, PointsOfAnotherRanksFileAreReusedAndAdopted) {
  MemoryShare share;
  {
    RunContext helper = context("ranks/rank1", &share, false);
    helper.sweep_point("p0", [] { return Row{{"x", 5.0}}; });
  }
  fs::create_directories(dir_ / "run");
  RunContext alone((dir_ / "run").string(), Config::from_toml("", "test"), 1, false);
  alone.reuse_points_from((dir_ / "ranks" / "rank1" / "points.jsonl").string());
  alone.share_points(nullptr, true);  // one process resuming a run made on several ranks
  int computed = 0;
  EXPECT_EQ(row_number(alone.sweep_point("p0", [&] { return ++computed, Row{{"x", -1.0}}; }), "x"), 5);
  EXPECT_EQ(computed, 0);
  EXPECT_EQ(alone.reused_points(), 1);
  EXPECT_EQ(lines_in(dir_ / "run" / "points.jsonl"), 1u) << "adopted into the run's own points.jsonl";
}

}  // namespace
}  // namespace lmlab
