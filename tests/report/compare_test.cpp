// Comparing two reproductions (lmlab/core/compare.h), built from fake run directories: a changed
// verdict, a claim that disappeared, measured values and results within and beyond tolerance,
// config, seed and environment differences, experiments only one side ran, plots overlaid where
// they share axes, and the errors of a missing directory and a corrupt summary.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/files.h"
#include "core/plot_data.h"
#include "lmlab/core/compare.h"
#include "lmlab/core/error.h"
#include "lmlab/core/plot.h"
#include "support/fake_runs.h"
#include "support/html_check.h"
#include "support/usage_error.h"

using namespace lmlab;
using namespace lmlab::test_support;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const ClaimComparison* find_claim(const Comparison& c, const std::string& id) {
  for (const ClaimComparison& claim : c.claims)
    if (claim.id == id) return &claim;
  return nullptr;
}

const ValueChange* find_change(const std::vector<ValueChange>& changes, const std::string& key) {
  for (const ValueChange& v : changes)
    if (v.key == key) return &v;
  return nullptr;
}

class Compare : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lmlab_compare_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    a_ = (root_ / "a").string();
    b_ = (root_ / "b").string();

    json sa = fake_summary("optim.rdbd", "P8 RDBD (arXiv 2310.11291)");
    sa["claims"] = {fake_claim("stable", 0.5, "<", 1, true),      fake_claim("flips", 0.9, "<", 1, true),
                    fake_claim("small_move", 1.0, ">", 0, true),  fake_claim("big_move", 1.0, ">", 0, true),
                    fake_claim("gone", 1.0, ">", 0, true)};
    sa["results"] = {{"same", 1.0}, {"within", 100.0}, {"beyond", 100.0}, {"list", {1, 2, 3}}, {"text", "a"}};
    sa["environment"] = {{"threads", "2"}, {"simd_in_use", "avx2"}};
    json sb = sa;
    sb["seed"] = 2;
    sb["config"]["lr"] = 0.2;
    sb["environment"]["threads"] = "4";
    sb["claims"] = {fake_claim("stable", 0.5, "<", 1, true),      fake_claim("flips", 1.1, "<", 1, false),
                    fake_claim("small_move", 1.02, ">", 0, true), fake_claim("big_move", 1.5, ">", 0, true)};
    sb["results"] = {{"same", 1.0}, {"within", 103.0}, {"beyond", 120.0}, {"list", {1, 2, 4}}, {"text", "b"},
                     {"new_key", 1}};
    run_a_ = write_fake_run(a_, sa);
    run_b_ = write_fake_run(b_, sb, "20240502-100000-s2");
    write_fake_run(a_, fake_summary("foundation.only_a", "foundation (no paper)"));
    write_fake_run(b_, fake_summary("foundation.only_b", "foundation (no paper)"));
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_, run_a_, run_b_;
  std::string a_, b_;
};

}  // namespace

TEST_F(Compare, ChangedVerdictsIncludeAClaimThatDisappeared) {
  const Comparison c = compare_runs(a_, b_);
  ASSERT_EQ(c.claims.size(), 5u);
  EXPECT_EQ(c.verdicts_changed(), 2);
  const ClaimComparison* flips = find_claim(c, "flips");
  ASSERT_NE(flips, nullptr);
  EXPECT_TRUE(flips->verdict_changed());
  EXPECT_EQ(flips->passed_a, true);
  EXPECT_EQ(flips->passed_b, false);
  EXPECT_DOUBLE_EQ(*flips->measured_a, 0.9);
  EXPECT_DOUBLE_EQ(*flips->measured_b, 1.1);
  EXPECT_EQ(flips->paper, "P8 \u00b7 RDBD");
  const ClaimComparison* gone = find_claim(c, "gone");
  ASSERT_NE(gone, nullptr);
  EXPECT_TRUE(gone->verdict_changed());
  EXPECT_FALSE(gone->passed_b.has_value());
  EXPECT_FALSE(find_claim(c, "stable")->verdict_changed());
}

TEST_F(Compare, MeasuredValuesWithinAndBeyondTolerance) {
  const Comparison c = compare_runs(a_, b_, 0.05);
  EXPECT_NEAR(find_claim(c, "small_move")->change, 0.02, 1e-12);
  EXPECT_FALSE(c.beyond(find_claim(c, "small_move")->change));
  EXPECT_NEAR(find_claim(c, "big_move")->change, 0.5, 1e-12);
  EXPECT_TRUE(c.beyond(find_claim(c, "big_move")->change));
  EXPECT_EQ(find_claim(c, "stable")->change, 0.0);
}

TEST_F(Compare, ResultsAreListedOnlyBeyondTolerance) {
  const Comparison c = compare_runs(a_, b_, 0.05);
  EXPECT_EQ(find_change(c.results, "same"), nullptr);
  EXPECT_EQ(find_change(c.results, "within"), nullptr);  // +3%
  ASSERT_NE(find_change(c.results, "beyond"), nullptr);
  EXPECT_NEAR(find_change(c.results, "beyond")->change, 0.2, 1e-12);
  EXPECT_EQ(find_change(c.results, "beyond")->a, "100");
  EXPECT_EQ(find_change(c.results, "beyond")->b, "120");
  ASSERT_NE(find_change(c.results, "list"), nullptr);
  EXPECT_NEAR(find_change(c.results, "list")->change, 1.0 / 3.0, 1e-12);  // the element that moved most
  ASSERT_NE(find_change(c.results, "text"), nullptr);
  EXPECT_TRUE(std::isinf(find_change(c.results, "text")->change));
  ASSERT_NE(find_change(c.results, "new_key"), nullptr);
  EXPECT_EQ(find_change(c.results, "new_key")->a, "(absent)");
  EXPECT_EQ(c.results.size(), 4u);

  const Comparison loose = compare_runs(a_, b_, 0.25);  // +20% is within 25%
  EXPECT_EQ(find_change(loose.results, "beyond"), nullptr);
  EXPECT_NE(find_change(loose.results, "list"), nullptr);
}

TEST_F(Compare, ConfigSeedAndEnvironmentDifferences) {
  const Comparison c = compare_runs(a_, b_);
  ASSERT_EQ(c.config.size(), 2u);
  EXPECT_EQ(c.config[0].key, "--seed");
  EXPECT_EQ(c.config[0].a, "1");
  EXPECT_EQ(c.config[0].b, "2");
  EXPECT_EQ(c.config[1].key, "lr");
  EXPECT_EQ(c.config[1].experiment, "optim.rdbd");
  ASSERT_EQ(c.environment.size(), 1u);
  EXPECT_EQ(c.environment[0].key, "threads");
}

TEST_F(Compare, ExperimentsOnlyOneSideRanAreListedNotCompared) {
  const Comparison c = compare_runs(a_, b_);
  EXPECT_EQ(c.only_a, std::vector<std::string>{"foundation.only_a"});
  EXPECT_EQ(c.only_b, std::vector<std::string>{"foundation.only_b"});
  for (const ClaimComparison& claim : c.claims) EXPECT_EQ(claim.experiment, "optim.rdbd");
}

TEST_F(Compare, IdenticalRunsShowNoChange) {
  const Comparison c = compare_runs(a_, a_);
  EXPECT_EQ(c.verdicts_changed(), 0);
  EXPECT_TRUE(c.results.empty());
  EXPECT_TRUE(c.config.empty());
  for (const ClaimComparison& claim : c.claims) EXPECT_EQ(claim.change, 0.0);
}

TEST_F(Compare, MissingDirectoryAndCorruptSummaryAreDataErrorsThatSayWhatToDo) {
  const std::string missing = data_error([&] { compare_runs(a_, (root_ / "nowhere").string()); });
  EXPECT_TRUE(contains(missing, "nowhere' is not a directory")) << missing;
  EXPECT_TRUE(contains(missing, "Pass a run directory")) << missing;

  fs::create_directories(root_ / "empty");
  const std::string empty = data_error([&] { compare_runs((root_ / "empty").string(), b_); });
  EXPECT_TRUE(contains(empty, "holds no runs")) << empty;

  write_text(run_b_ / "summary.json", "{\"experiment\": \"optim.rdbd\", garbage");
  const std::string corrupt = data_error([&] { compare_runs(a_, b_); });
  EXPECT_TRUE(contains(corrupt, run_b_.string() + ": summary.json is not valid JSON")) << corrupt;
  EXPECT_TRUE(contains(corrupt, "Run that experiment again")) << corrupt;
  EXPECT_TRUE(contains(data_error([&] { read_run_set(b_); }), "summary.json is not valid JSON"));
}

TEST_F(Compare, ToleranceMustBeANonNegativeNumber) {
  EXPECT_THROW(compare_runs(a_, b_, -0.1), UsageError);
  EXPECT_THROW(compare_runs(a_, b_, std::nan("")), UsageError);
}

TEST_F(Compare, TerminalTableShowsBothSidesWithinHundredColumns) {
  const std::string text = comparison_text(compare_runs(a_, b_));
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find(root_.string()) == std::string::npos) {  // a line with a path may be longer
      EXPECT_LE(line.size(), 100u) << line;
    }
  EXPECT_TRUE(contains(text, "!!   flips")) << text;
  EXPECT_TRUE(contains(text, "PASS 0.9")) << text;
  EXPECT_TRUE(contains(text, "FAIL 1.1")) << text;
  EXPECT_TRUE(contains(text, "+22.2%")) << text;
  EXPECT_TRUE(contains(text, "~    big_move")) << text;
  EXPECT_TRUE(contains(text, "absent")) << text;
  EXPECT_TRUE(contains(text, "only in A, not compared: foundation.only_a")) << text;
  EXPECT_TRUE(contains(text, "5 claims compared: 2 verdicts changed, 2 measured values moved beyond 5%\n"
                               "4 results moved beyond 5%, 2 config keys differ\n")) << text;
}

TEST_F(Compare, PageOverlaysPlotsThatShareAxesAndShowsTheOthersSideBySide) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot is not installed";
  auto plot = [](const std::string& xlabel, double y) {
    return LinePlot("curve", xlabel, "loss").with({{"sgd", {1, 2, 3}, {y, y / 2, y / 4}, {}}});
  };
  for (const auto& [dir, y] : {std::pair<fs::path, double>{run_a_, 1.0}, {run_b_, 2.0}}) {
    render_line_plot(plot("step", y), (dir / "curve").string());
    save_plot_data(plot("step", y), (dir / "curve").string());
    render_line_plot(plot(y == 1.0 ? "step" : "epoch", y), (dir / "axes").string());
    save_plot_data(plot(y == 1.0 ? "step" : "epoch", y), (dir / "axes").string());
  }
  write_text(run_a_ / "image.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>picture A</text></svg>");
  const std::string page = (root_ / "compare.html").string();
  write_comparison_page(compare_runs(a_, b_), page);
  const std::string html = read_file(page);

  EXPECT_TRUE(contains(html, "curve: A and B overlaid")) << "same axes: one plot";
  const size_t from = html.find("curve: A and B overlaid");
  const std::vector<std::string> overlay = svg_images(html.substr(from, html.find("</figure>", from) - from));
  ASSERT_EQ(overlay.size(), 1u);
  EXPECT_TRUE(contains(overlay[0], "sgd (A)"));
  EXPECT_TRUE(contains(overlay[0], "sgd (B)"));
  // A's line is dashed: more dashed strokes than the grid alone draws in a run's own plot.
  auto dashes = [](const std::string& svg) {
    size_t n = 0;
    for (size_t at = svg.find("stroke-dasharray"); at != std::string::npos; at = svg.find("stroke-dasharray", at + 1)) ++n;
    return n;
  };
  EXPECT_GT(dashes(overlay[0]), dashes(read_file((run_a_ / "curve.svg").string())));
  EXPECT_TRUE(contains(html, "axes (A)")) << "other axes: side by side";
  EXPECT_TRUE(contains(html, "the two plots have different axes"));
  std::string images;
  for (const std::string& svg : svg_images(html)) images += svg;
  EXPECT_TRUE(contains(images, "picture A"));
  EXPECT_TRUE(contains(html, "not drawn in B"));
  EXPECT_TRUE(contains(html, "<tr class=\"changed\"><td>optim.rdbd</td><td>flips"));
  for (const std::string& p : html_problems(html)) ADD_FAILURE() << p;
}
