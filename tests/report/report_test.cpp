// The HTML report and claims.json, built from fake run directories: an ok run with a passing and a
// failing claim, a failed run, a run with a garbled summary.json and a missing directory.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "lmlab/core/report.h"
#include "support/html_check.h"

using namespace lmlab;
using lmlab::test_support::contains;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() / ("lmlab_report_test_" + std::to_string(::getpid()))).string();
    fs::remove_all(root_);
    ok_ = make_run("ok");
    failed_ = make_run("failed");
    garbled_ = make_run("garbled");
    missing_ = root_ + "/missing";

    json summary = {{"experiment", "foundation.fmnist_mlp"}, {"paper", "P1 (arXiv 2411.01663)"}, {"version", "0.1.0"},
                    {"git_sha", "abc123"},        {"seed", 1},                       {"quick", true},
                    {"status", "ok"},             {"wall_s", 12.3456789}};
    summary["environment"] = {{"libtorch", "1.13.1"}, {"threads", "2"}, {"simd_in_use", "avx2"}};
    summary["results"] = {{"test_accuracy", 0.87654321}, {"widths", {64, 128, 256}}};
    summary["claims"] = json::array({
        {{"id", "accuracy"}, {"statement", "accuracy <b>& more"}, {"measured", 0.87654321},
         {"comparator", ">="}, {"threshold", 0.8}, {"passed", true}},
        {{"id", "drift_slope"}, {"statement", "NTK drift falls with width"}, {"measured", -0.1},
         {"comparator", "<"}, {"threshold", -0.25}, {"passed", false}}});
    write_file_atomic(ok_ + "/summary.json", summary.dump(2));
    write_file_atomic(ok_ + "/config.toml", "lr = 0.1\nname = \"a<b\"\n");
    std::string log;
    for (int i = 0; i < 50; ++i) log += "log line " + std::string(i < 10 ? "0" : "") + std::to_string(i) + "\n";
    write_file_atomic(ok_ + "/log.txt", log);
    write_file_atomic(ok_ + "/loss.svg",
                      "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\"><defs><path id='gpPt0' d='M0,0'/></defs>"
                      "<use xlink:href='#gpPt0'/><text>loss curve</text></svg>\n");

    json failed = {{"experiment", "icl.linear"}, {"paper", "P5"}, {"status", "failed"}, {"results", json::object()}};
    write_file_atomic(failed_ + "/summary.json", failed.dump());
    write_file_atomic(failed_ + "/FAILED", "out of memory <in> layer 3\nstack...");

    write_file_atomic(garbled_ + "/summary.json", "{\"experiment\": \"x\", garbage");
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string make_run(const std::string& name) {
    make_directories(root_ + "/" + name);
    return root_ + "/" + name;
  }
  std::vector<std::string> dirs() const { return {ok_, failed_, garbled_, missing_}; }

  std::string root_, ok_, failed_, garbled_, missing_;
};

}  // namespace

TEST_F(Report, ShowsClaimsVerdictsPlotsAndProblems) {
  const std::string path = root_ + "/report.html";
  write_report(dirs(), path, "Test <report>");
  const std::string html = read_file(path);

  EXPECT_TRUE(contains(html, "<title>Test &lt;report&gt;</title>"));
  EXPECT_TRUE(contains(html, "2 claims: 1 passed, 1 failed"));
  EXPECT_TRUE(contains(html, "libtorch: 1.13.1"));
  // Claims with verdicts; the statement is escaped.
  EXPECT_TRUE(contains(html, "accuracy &lt;b&gt;&amp; more"));
  EXPECT_FALSE(contains(html, "<b>& more"));
  EXPECT_TRUE(contains(html, "class=\"pass\">PASS"));
  EXPECT_TRUE(contains(html, "class=\"fail\">FAIL"));
  EXPECT_TRUE(contains(html, "0.8765"));
  EXPECT_TRUE(contains(html, "&gt;= 0.8"));
  EXPECT_TRUE(contains(html, "[64, 128, 256]"));
  // The SVG is held in the page as an image, byte for byte.
  EXPECT_TRUE(contains(html, "<img alt=\"loss.svg\" src=\"data:image/svg+xml;base64,"));
  EXPECT_EQ(test_support::svg_images(html), std::vector<std::string>{read_file(ok_ + "/loss.svg")});
  EXPECT_FALSE(contains(html, "loss curve")) << "no SVG markup in the page itself";
  // Config and the last 40 log lines.
  EXPECT_TRUE(contains(html, "name = &quot;a&lt;b&quot;"));
  EXPECT_TRUE(contains(html, "log line 10"));
  EXPECT_TRUE(contains(html, "log line 49"));
  EXPECT_FALSE(contains(html, "log line 09"));
  // The failed run with its error, the unreadable runs with their reasons.
  EXPECT_TRUE(contains(html, "This run failed."));
  EXPECT_TRUE(contains(html, "out of memory &lt;in&gt; layer 3"));
  EXPECT_TRUE(contains(html, "summary.json is not valid JSON"));
  EXPECT_TRUE(contains(html, "no such directory"));
  EXPECT_TRUE(contains(html, "2 unreadable"));
  // No external resources, and a page a browser parses as written.
  EXPECT_FALSE(contains(html, "<script"));
  EXPECT_FALSE(contains(html, "<link"));
  for (const std::string& p : test_support::html_problems(html)) ADD_FAILURE() << p;
  // Written atomically: nothing but the report next to the runs.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator{}), 4);
}

TEST_F(Report, ClaimsJsonListsEveryClaimOfReadableRuns) {
  const json claims = json::parse(claims_json(dirs()));
  ASSERT_TRUE(claims.is_array());
  ASSERT_EQ(claims.size(), 2u);
  EXPECT_EQ(claims[0]["experiment"], "foundation.fmnist_mlp");
  EXPECT_EQ(claims[0]["paper"], "P1 (arXiv 2411.01663)");
  EXPECT_EQ(claims[0]["run_dir"], ok_);
  EXPECT_EQ(claims[0]["id"], "accuracy");
  EXPECT_EQ(claims[0]["statement"], "accuracy <b>& more");
  EXPECT_DOUBLE_EQ(claims[0]["measured"].get<double>(), 0.87654321);
  EXPECT_EQ(claims[0]["comparator"], ">=");
  EXPECT_DOUBLE_EQ(claims[0]["threshold"].get<double>(), 0.8);
  EXPECT_EQ(claims[0]["passed"], true);
  EXPECT_EQ(claims[1]["id"], "drift_slope");
  EXPECT_EQ(claims[1]["passed"], false);

  write_claims_json(dirs(), root_ + "/claims.json");
  EXPECT_EQ(json::parse(read_file(root_ + "/claims.json")), claims);
}

TEST_F(Report, EmptyRunListStillWritesAPage) {
  write_report({}, root_ + "/empty.html", "nothing");
  EXPECT_TRUE(contains(read_file(root_ + "/empty.html"), "0 claims: 0 passed, 0 failed"));
  EXPECT_EQ(json::parse(claims_json({})), json::array());
}

// A downloaded run directory is data, never code: its SVG is an image (a browser runs no script
// in it and follows none of its links), and files that are no regular file or are too large are
// named in the page instead of being read or waited on.
TEST_F(Report, FilesOfARunAreShownSafelyOrNamedAsUnreadable) {
  const std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script>"
                          "<foreignObject><iframe src=\"https://example.com\"></iframe></foreignObject></svg>";
  write_file_atomic(ok_ + "/loss.svg", svg);
  fs::remove(ok_ + "/log.txt");
  fs::create_symlink("/dev/zero", ok_ + "/log.txt");
  const std::string fifo = make_run("fifo");
  ASSERT_EQ(::mkfifo((fifo + "/summary.json").c_str(), 0644), 0);
  const std::string path = root_ + "/report.html";
  write_report({ok_, fifo}, path, "unsafe");
  const std::string html = read_file(path);

  EXPECT_FALSE(contains(html, "<script")) << "the script is not markup of the page";
  EXPECT_FALSE(contains(html, "onload"));
  EXPECT_FALSE(contains(html, "<iframe"));
  EXPECT_EQ(test_support::svg_images(html), std::vector<std::string>{svg});
  EXPECT_TRUE(contains(html, "not shown: cannot read &#39;" + ok_ + "/log.txt&#39;: not a regular file"));
  EXPECT_TRUE(contains(html, "fifo/summary.json&#39;: not a regular file"));
  for (const std::string& p : test_support::html_problems(html)) ADD_FAILURE() << p;
}
