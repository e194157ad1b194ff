// `lmlab compare`, `lmlab reproduce --baseline` and `lmlab report` over several reproductions, as
// a user or a CI script meets them: exit codes 0, 4 (a verdict changed) and 3 (unreadable input),
// the pages they write and what the terminal shows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/cli.h"
#include "support/fake_runs.h"
#include "support/html_check.h"

namespace fs = std::filesystem;
using lmlab::test_support::contains;
using lmlab::test_support::fake_claim;
using lmlab::test_support::fake_summary;
using lmlab::test_support::write_fake_run;
using lmlab::test_support::write_text;

namespace {

class CompareCli : public lmlab::test_support::CliTest {
 protected:
  // A reproduction under `name` whose one claim measured `measured` and passed or not.
  fs::path reproduction(const std::string& name, double measured, bool passed,
                        const std::string& started = "2024-05-01T10:00:00Z") {
    nlohmann::json s = fake_summary("optim.rdbd", "P8 RDBD (arXiv 2310.11291)", started);
    s["claims"] = {fake_claim("rdbd_beats_dbd", measured, "<", 1.0, passed)};
    s["results"] = {{"ratio", measured}};
    const fs::path run = write_fake_run(dir_ / name, s);
    write_text(dir_ / name / "claims.json", "[]");
    return run;
  }

  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
  }
};


}  // namespace

TEST_F(CompareCli, ExitsZeroWhenNoVerdictChangedAndFourWhenOneDid) {
  reproduction("a", 0.8, true);
  reproduction("b", 0.82, true);
  const auto same = lmlab("compare a b");
  EXPECT_EQ(same.code, 0) << same.output;
  EXPECT_TRUE(contains(same.output, "1 claims compared: 0 verdicts changed, 0 measured values moved beyond 5%"))
      << same.output;
  EXPECT_TRUE(fs::exists(dir_ / "b" / "compare.html"));

  reproduction("c", 1.2, false);
  const auto changed = lmlab("compare a c --tolerance 0.1 --out page.html");
  EXPECT_EQ(changed.code, 4) << changed.output;
  EXPECT_TRUE(contains(changed.output, "!!   rdbd_beats_dbd")) << changed.output;
  EXPECT_TRUE(contains(changed.output, "PASS 0.8")) << changed.output;
  EXPECT_TRUE(contains(changed.output, "FAIL 1.2")) << changed.output;
  EXPECT_TRUE(contains(changed.output, "+50%")) << changed.output;
  EXPECT_TRUE(contains(changed.output, "Results that moved beyond 10%")) << changed.output;
  EXPECT_TRUE(contains(read(dir_ / "page.html"), "<tr class=\"changed\">"));
}

TEST_F(CompareCli, MissingRunAndCorruptSummaryExitWithThreeAndSayWhatToDo) {
  reproduction("a", 0.8, true);
  const auto missing = lmlab("compare a nowhere");
  EXPECT_EQ(missing.code, 3) << missing.output;
  EXPECT_TRUE(contains(missing.output, "'nowhere' is not a directory. Pass a run directory")) << missing.output;

  const fs::path run = reproduction("b", 0.8, true);
  write_text(run / "summary.json", "{\"experiment\": ");
  const auto corrupt = lmlab("compare a b");
  EXPECT_EQ(corrupt.code, 3) << corrupt.output;
  EXPECT_TRUE(contains(corrupt.output, "summary.json is not valid JSON")) << corrupt.output;
  EXPECT_TRUE(contains(corrupt.output, fs::relative(run, dir_).string() + ": summary.json")) << corrupt.output;

  EXPECT_EQ(lmlab("compare a a --tolerance -1").code, 2);
  EXPECT_EQ(lmlab("compare a").code, 2);
}

TEST_F(CompareCli, ReproduceWithBaselinePutsTheComparisonInTheReport) {
  const std::string args = "reproduce --quick --only foundation.teacher_student --threads 1 --seed 4";
  const auto first = lmlab(args + " --out r1");
  ASSERT_EQ(first.code, 0) << first.output;
  const auto second = lmlab(args + " --out r2 --baseline r1");
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "2 claims compared: 0 verdicts changed")) << second.output;
  EXPECT_TRUE(fs::exists(dir_ / "r2" / "compare.html"));
  const std::string report = read(dir_ / "r2" / "report.html");
  EXPECT_TRUE(contains(report, "<h2>Compared with the baseline</h2>"));
  EXPECT_TRUE(contains(report, "mse_vs_width: A and B overlaid")) << "the runs saved their plots' data";
  EXPECT_LT(report.find("id=\"overview\""), report.find("id=\"comparison\""));

  const auto refused = lmlab(args + " --out r3 --baseline nowhere");
  EXPECT_EQ(refused.code, 3) << refused.output;
  EXPECT_FALSE(fs::exists(dir_ / "r3")) << "a baseline that cannot be read is refused before anything runs";
}

TEST_F(CompareCli, ReportOfSeveralReproductionsShowsTheirHistory) {
  reproduction("many/one", 0.8, true, "2024-05-01T10:00:00Z");
  reproduction("many/two", 0.9, true, "2024-05-02T10:00:00Z");
  const auto r = lmlab("report many");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "the newest of 2 reproductions")) << r.output;
  const std::string html = read(dir_ / "many" / "report.html");
  EXPECT_TRUE(contains(html, "History of 2 reproductions"));
  EXPECT_TRUE(contains(html, "1: PASS 0.8 &middot; 2: PASS 0.9"));
  EXPECT_FALSE(fs::exists(dir_ / "many" / "claims.json")) << "the parent must not become a reproduction itself";
}
