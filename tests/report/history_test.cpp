// The history of several reproductions in report.html: reproductions found and ordered by when
// they ran, and each claim's measured value over them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/files.h"
#include "lmlab/core/plot.h"
#include "lmlab/core/report.h"
#include "lmlab/core/run_dirs.h"
#include "support/fake_runs.h"
#include "support/html_check.h"

using namespace lmlab;
using namespace lmlab::test_support;
namespace fs = std::filesystem;

namespace {

class History : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lmlab_history_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    // Directory names out of time order: the start of their runs orders them.
    add("r-b", "2024-05-01T10:00:00Z", 1.0, true, true);
    add("r-c", "2024-05-02T10:00:00Z", 2.0, true, false);
    add("r-a", "2024-05-03T10:00:00Z", 3.0, false, false);
    write_text(root_ / "claims.json", "[]");  // the root itself is not one of them
  }
  void TearDown() override { fs::remove_all(root_); }

  void add(const std::string& name, const std::string& started, double measured, bool passed, bool with_old_claim) {
    nlohmann::json s = fake_summary("optim.rdbd", "P8 RDBD (arXiv 2310.11291)", started);
    s["claims"] = {fake_claim("ratio <1", measured, "<", 2.5, passed)};
    if (with_old_claim) s["claims"].push_back(fake_claim("renamed_since", 0.5, ">", 0, true));
    write_fake_run(root_ / name, s);
    write_text(root_ / name / "claims.json", "[]");
  }

  fs::path root_;
};

}  // namespace

TEST_F(History, ReproductionsAreOrderedByWhenTheyRan) {
  const std::vector<std::string> found = find_reproductions(root_.string());
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(fs::path(found[0]).filename(), "r-b");
  EXPECT_EQ(fs::path(found[1]).filename(), "r-c");
  EXPECT_EQ(fs::path(found[2]).filename(), "r-a");
  EXPECT_TRUE(find_reproductions(found[0]).empty());
}

TEST_F(History, EachClaimShowsItsValueInEveryReproduction) {
  const std::vector<std::string> found = find_reproductions(root_.string());
  const std::string page = (root_ / "report.html").string();
  write_report(find_run_dirs(found.back()), page, "history", {nullptr, found});
  const std::string html = read_file(page);

  ASSERT_TRUE(contains(html, "<section id=\"history\">\n<h2>History of 3 reproductions</h2>"));
  EXPECT_TRUE(contains(html, "<td>1</td><td>" + found[0] + "</td><td>2024-05-01T10:00:00Z</td>"));
  EXPECT_TRUE(contains(html, "<h3>P8 \u00b7 RDBD</h3>"));
  EXPECT_TRUE(contains(html, "optim.rdbd / <b>ratio &lt;1</b>"));
  EXPECT_TRUE(contains(html, "1: PASS 1 &middot; 2: PASS 2 &middot; 3: FAIL 3"));
  EXPECT_TRUE(contains(html, "<b>renamed_since</b>")) << "a claim only older reproductions have";
  EXPECT_TRUE(contains(html, "<p class=\"meta\">1: PASS 0.5</p>"));
  if (gnuplot_available()) {  // one plot per claim, drawn by gnuplot
    const std::vector<std::string> plots = test_support::svg_images(html);
    EXPECT_EQ(plots.size(), 2u);  // "ratio <1" and "renamed_since"
    for (const std::string& svg : plots) EXPECT_TRUE(contains(svg, "gnuplot_canvas"));
  }
  // The page is the newest reproduction's report, with the history before the paper sections.
  EXPECT_LT(html.find("id=\"history\""), html.find("<section id=\"paper-0\">"));
  EXPECT_TRUE(contains(html, "FAIL</td>"));
  for (const std::string& p : html_problems(html)) ADD_FAILURE() << p;
}
