// The front of report.html: one overview row per paper, the claims grouped by paper and linked to
// the plot and the result that decide them, on a page a browser reads without scripts or network.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <regex>

#include "core/files.h"
#include "lmlab/core/report.h"
#include "support/fake_runs.h"
#include "support/html_check.h"

using namespace lmlab;
using namespace lmlab::test_support;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class Overview : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lmlab_overview_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    // Two runs of P4 (one labelled as older lmlab wrote it: no title), one of P10, one foundation.
    json rdbd = fake_summary("optim.rdbd", "P8 RDBD (arXiv 2310.11291)", "2024-05-01T10:00:00Z", 90);
    rdbd["paper_title"] = "RDBD: Regrettable Delta-Bar-Delta learning-rate schedule";
    rdbd["results"] = {{"noisy_ratio", 0.8}, {"steps", {10, 20, 30}}};
    rdbd["claims"] = {fake_claim("rdbd_beats_dbd", 0.8, "<", 1.0, true, "noisy_sgd"),
                      fake_claim("steps_kept", 20, "<=", 25, true, "not_drawn"),
                      fake_claim("fails <here>", 3.5, "<", 1.0, false)};
    dirs_.push_back(write_fake_run(root_, rdbd).string());
    write_text(dirs_.back() + "/noisy_sgd.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>curve</text></svg>");

    json accel = fake_summary("optim.accelerating", "P4 RA/RVA (arXiv 2402.01515)", "2024-05-01T10:02:00Z", 30);
    accel["claims"] = {fake_claim("rva_speeds_up", 0.5, "<", 1.0, true)};
    accel["claims"][0].erase("plot");  // a run written before claims named their plot
    dirs_.push_back(write_fake_run(root_, accel).string());
    write_text(dirs_.back() + "/lr.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>lr</text></svg>");

    json more = fake_summary("optim.more", "P4 RA/RVA (arXiv 2402.01515)", "2024-05-01T10:03:00Z", 45);
    more["paper_title"] = "Unified framework for first-order methods";
    more["claims"] = {fake_claim("ra_speeds_up", 2.0, "<", 1.0, false)};
    dirs_.push_back(write_fake_run(root_, more).string());

    json base = fake_summary("foundation.teacher_student", "foundation (no paper)", "2024-05-01T09:00:00Z", 5);
    base["claims"] = {fake_claim("width_helps", -1.0, "<", 0, true)};
    dirs_.push_back(write_fake_run(root_, base).string());

    write_report(dirs_, (root_ / "report.html").string(), "overview test");
    html_ = read_file((root_ / "report.html").string());
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  std::vector<std::string> dirs_;
  std::string html_;
};

}  // namespace

TEST_F(Overview, OneRowPerPaperInPaperOrderWithClaimsAndWallTime) {
  const size_t overview = html_.find("id=\"overview\""), claims = html_.find("id=\"claims\"");
  ASSERT_NE(overview, std::string::npos);
  ASSERT_NE(claims, std::string::npos);
  const std::string table = html_.substr(overview, claims - overview);
  // foundation first, then by paper number; the two P4 runs share a row titled by the run that knows the title.
  const size_t foundation = table.find("foundation (no paper)"), p4 = table.find("P4 \u00b7 Unified framework"),
               p8 = table.find("P8 \u00b7 RDBD: Regrettable Delta-Bar-Delta");
  ASSERT_NE(foundation, std::string::npos) << table;
  ASSERT_NE(p4, std::string::npos) << table;
  ASSERT_NE(p8, std::string::npos) << table;
  EXPECT_LT(foundation, p4);
  EXPECT_LT(p4, p8);
  EXPECT_TRUE(contains(table, "<a href=\"https://arxiv.org/abs/2402.01515\">2402.01515</a>"));
  // P4: 1 of 2 claims, 30 + 45 s; P8: 2 of 3, 90 s; all: 4 of 6 in 170 s.
  const std::string p4_row = table.substr(p4, table.find("</tr>", p4) - p4);
  EXPECT_TRUE(contains(p4_row, "<td>2</td><td class=\"num fail\">1 / 2</td><td class=\"num\">1m15s</td>")) << p4_row;
  EXPECT_TRUE(contains(table, "<td class=\"num fail\">2 / 3</td><td class=\"num\">1m30s</td>")) << table;
  EXPECT_TRUE(contains(table, "<td class=\"num fail\">4 / 6</td><td class=\"num\">2m50s</td>")) << table;
  // Each paper links to its section, which exists.
  EXPECT_TRUE(contains(table, "<a href=\"#paper-1\">P4"));
  EXPECT_TRUE(contains(html_, "<section id=\"paper-1\">\n<h2>P4 \u00b7 Unified framework"));
  EXPECT_LT(overview, html_.find("<section id=\"run-0\">")) << "the overview opens the page";
}

TEST_F(Overview, ClaimsAreGroupedByPaperAndLinkToTheirEvidence) {
  const std::string claims = html_.substr(html_.find("id=\"claims\""));
  EXPECT_TRUE(contains(claims, "<tr class=\"group\"><th colspan=\"7\"><a href=\"#paper-2\">P8 \u00b7 RDBD"));
  EXPECT_TRUE(contains(claims, "2 of 3 passed"));
  // The named plot, and the result holding the measured value (a number, then a list element).
  EXPECT_TRUE(contains(claims, "plot <a href=\"#run-0-plot-noisy_sgd\">noisy_sgd</a><br>result "
                               "<a href=\"#run-0-result-noisy_ratio\">noisy_ratio</a>"));
  EXPECT_TRUE(contains(html_, "<figure id=\"run-0-plot-noisy_sgd\">"));
  EXPECT_TRUE(contains(html_, "<tr id=\"run-0-result-noisy_ratio\">"));
  EXPECT_TRUE(contains(claims, "plot not_drawn (not drawn)<br>result <a href=\"#run-0-result-steps\">steps[1]</a>"));
  // An older run's claim links to its run's plots; a claim without plot or result links nowhere.
  EXPECT_TRUE(contains(claims, "<a href=\"#run-1-plots\">plots</a>"));
  EXPECT_TRUE(contains(claims, "fails &lt;here&gt;"));
  EXPECT_FALSE(contains(html_, "fails <here>"));
}

TEST_F(Overview, PageIsSoundOfflineAndWithoutScripts) {
  for (const std::string& p : html_problems(html_)) ADD_FAILURE() << p;
}

// The checker above is only worth its silence if it speaks up.
TEST(HtmlCheck, FlagsWhatABrowserWouldStumbleOnOrFetch) {
  EXPECT_TRUE(html_problems("<p>a <b>b</b> &amp; c<br></p>").empty());
  EXPECT_FALSE(html_problems("<p><b>x</p>").empty());
  EXPECT_FALSE(html_problems("<p>1 < 2</p>").empty());
  EXPECT_FALSE(html_problems("<p>a & b</p>").empty());
  EXPECT_FALSE(html_problems("<a href=\"#nowhere\">x</a>").empty());
  EXPECT_FALSE(html_problems("<i id=\"a\"></i><i id=\"a\"></i>").empty());
  EXPECT_FALSE(html_problems("<svg><use xlink:href='#gpPt0'/></svg>").empty());
  EXPECT_FALSE(html_problems("<script>x()</script>").empty());
  EXPECT_FALSE(html_problems("<img src=\"http://x/y.png\">").empty());
  EXPECT_FALSE(html_problems("<a href=\"http://example.com\">x</a>").empty());
  EXPECT_FALSE(html_problems("<style>body{background:url(http://x)}</style>").empty());
}
