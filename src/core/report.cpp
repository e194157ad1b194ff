// The HTML report and claims.json (include/lmlab/core/report.h). The sections of papers and runs
// are in report_runs.cpp, the comparison in compare_html.cpp, the history in history.cpp.
#include "lmlab/core/report.h"

#include <sstream>

#include "core/compare_html.h"
#include "core/files.h"
#include "core/history.h"
#include "core/html.h"
#include "core/report_runs.h"
#include "core/run_record.h"
#include "lmlab/core/progress.h"

namespace lmlab {
namespace {

void write_environment(std::ostream& html, const std::vector<RunRecord>& runs) {
  for (const RunRecord& run : runs) {
    const Json env = run.environment();
    if (env.empty()) continue;
    html << "<p class=\"meta\">Environment of " << escape(run.experiment()) << ": ";
    bool first = true;
    for (const auto& [key, value] : env.items()) {
      html << (first ? "" : " &middot; ") << escape(key) << ": " << escape(show(value));
      first = false;
    }
    html << "</p>\n";
    return;
  }
}

void write_summary(std::ostream& html, const std::vector<RunRecord>& runs) {
  int claims = 0, passed = 0, failed_runs = 0, unreadable = 0;
  for (const RunRecord& run : runs) {
    failed_runs += run.is_failed();
    unreadable += !run.unreadable.empty();
    for (const Json& c : member(run.summary, "claims")) {
      ++claims;
      passed += member(c, "passed") == true;
    }
  }
  html << "<p class=\"summary\"><b>" << claims << " claims: " << passed << " passed, " << claims - passed
       << " failed</b> &middot; " << runs.size() << " runs";
  if (failed_runs) html << ", <span class=\"fail\">" << failed_runs << " failed</span>";
  if (unreadable) html << ", <span class=\"fail\">" << unreadable << " unreadable</span>";
  html << "</p>\n";
  if (failed_runs + unreadable == 0) return;
  html << "<div class=\"alert\"><b>Runs that did not finish cleanly:</b><ul>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].is_failed() && runs[i].unreadable.empty()) continue;
    html << "<li><a href=\"#" << run_anchor(i) << "\">" << escape(runs[i].experiment()) << "</a>: "
         << (runs[i].unreadable.empty() ? "failed" : "unreadable: " + escape(runs[i].unreadable));
    if (!runs[i].failed.empty()) html << ": " << escape(runs[i].failed.substr(0, runs[i].failed.find('\n')));
    html << "</li>\n";
  }
  html << "</ul></div>\n";
}

// "passed / total" in a cell coloured by whether all passed.
std::string claims_cell(int passed, int total) {
  const char* cls = total == 0 ? "num" : passed == total ? "num pass" : "num fail";
  return std::string("<td class=\"") + cls + "\">" + std::to_string(passed) + " / " + std::to_string(total) + "</td>";
}

void write_overview(std::ostream& html, const std::vector<RunRecord>& runs, const std::vector<PaperGroup>& groups) {
  html << "<h2 id=\"overview\">Overview</h2>\n<table><tr><th>Paper</th><th>arXiv</th><th>Runs</th>"
          "<th>Claims passed</th><th>Wall time</th></tr>\n";
  int claims = 0, passed = 0;
  double wall = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const PaperGroup& group = groups[g];
    html << "<tr><td><a href=\"#" << paper_anchor(g) << "\">" << escape(group.paper.heading()) << "</a></td><td>";
    if (!group.paper.arxiv.empty())
      html << "<a href=\"https://arxiv.org/abs/" << escape(group.paper.arxiv) << "\">" << escape(group.paper.arxiv)
           << "</a>";
    html << "</td><td>" << group.runs.size();
    if (group.failed_runs) html << " <span class=\"fail\">(" << group.failed_runs << " failed)</span>";
    html << "</td>" << claims_cell(group.passed, group.claims) << "<td class=\"num\">"
         << Progress::format_seconds(group.wall_s) << "</td></tr>\n";
    claims += group.claims;
    passed += group.passed;
    wall += group.wall_s;
  }
  html << "<tr><th colspan=\"2\">All papers</th><th>" << runs.size() << "</th>" << claims_cell(passed, claims)
       << "<td class=\"num\">" << Progress::format_seconds(wall) << "</td></tr>\n</table>\n";
}

// The result that holds a claim's measured value: {key, label}, label "key[i]" for an element of a
// list; {"", ""} when none does. A result named like the claim comes first, then a number, then a
// list element.
std::pair<std::string, std::string> deciding_result(const Json& claim, const Json& results) {
  const Json& measured = member(claim, "measured");
  const std::string id = field(claim, "id");
  if (results.contains(id)) return {id, id};
  if (!measured.is_number()) return {"", ""};
  for (const auto& [key, value] : results.items())
    if (value.is_number() && value.get<double>() == measured.get<double>()) return {key, key};
  for (const auto& [key, value] : results.items())
    if (value.is_array())
      for (size_t i = 0; i < value.size(); ++i)
        if (value[i].is_number() && value[i].get<double>() == measured.get<double>())
          return {key, key + "[" + std::to_string(i) + "]"};
  return {"", ""};
}

// Links to the plot and the result that decide claim `claim` of run `index`. A claim of a run
// written before claims named their plot (no "plot" key) links to all the run's plots.
std::string evidence(const RunRecord& run, size_t index, const Json& claim) {
  std::string out;
  const std::string plot = field(claim, "plot");
  if (!plot.empty() && file_exists(run.dir + "/" + plot + ".svg"))
    out += "plot <a href=\"#" + plot_anchor(index, plot) + "\">" + escape(plot) + "</a>";
  else if (!plot.empty())
    out += "plot " + escape(plot) + " (not drawn)";
  else if (!claim.contains("plot") && !plot_names(run.dir).empty())
    out += "<a href=\"#" + plots_anchor(index) + "\">plots</a>";
  const auto [key, label] = deciding_result(claim, member(run.summary, "results"));
  if (!key.empty())
    out += (out.empty() ? "" : "<br>") + std::string("result <a href=\"#") + result_anchor(index, key) + "\">" +
           escape(label) + "</a>";
  return out;
}

void write_claims_table(std::ostream& html, const std::vector<RunRecord>& runs, const std::vector<PaperGroup>& groups) {
  html << "<h2 id=\"claims\">Claims</h2>\n<table><tr><th>Experiment</th><th>Claim</th><th>Statement</th>"
          "<th>Measured</th><th>Threshold</th><th>Verdict</th><th>Evidence</th></tr>\n";
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].claims == 0) continue;
    html << "<tr class=\"group\"><th colspan=\"7\"><a href=\"#" << paper_anchor(g) << "\">"
         << escape(groups[g].paper.heading()) << "</a>: " << groups[g].passed << " of " << groups[g].claims
         << " passed</th></tr>\n";
    for (size_t i : groups[g].runs) {
      for (const Json& c : member(runs[i].summary, "claims")) {
        const bool ok = member(c, "passed") == true;
        html << "<tr><td><a href=\"#" << run_anchor(i) << "\">" << escape(runs[i].experiment()) << "</a></td><td>"
             << escape(field(c, "id")) << "</td><td>" << escape(field(c, "statement")) << "</td><td class=\"num\">"
             << escape(field(c, "measured")) << "</td><td class=\"num\">" << escape(field(c, "comparator")) << " "
             << escape(field(c, "threshold")) << "</td><td class=\"" << (ok ? "pass\">PASS" : "fail\">FAIL")
             << "</td><td>" << evidence(runs[i], i, c) << "</td></tr>\n";
      }
    }
  }
  html << "</table>\n";
}

}  // namespace

void write_report(const std::vector<std::string>& run_dirs, const std::string& html_path, const std::string& title,
                  const ReportOptions& options) {
  const std::vector<RunRecord> runs = load_runs(run_dirs);
  const std::vector<PaperGroup> groups = group_by_paper(runs);
  std::ostringstream html;
  open_page(html, title);
  write_environment(html, runs);
  write_summary(html, runs);
  write_overview(html, runs, groups);
  write_claims_table(html, runs, groups);
  if (options.baseline) write_comparison_section(html, *options.baseline, "Compared with the baseline");
  if (options.history.size() >= 2) write_history_section(html, options.history);
  write_paper_sections(html, runs, groups);
  close_page(html);
  write_file_atomic(html_path, html.str());
}

std::string claims_json(const std::vector<std::string>& run_dirs) {
  Json out = Json::array();
  for (const RunRecord& run : load_runs(run_dirs)) {
    for (const Json& c : member(run.summary, "claims")) {
      Json claim{{"experiment", member(run.summary, "experiment")},
                 {"paper", member(run.summary, "paper")},
                 {"run_dir", run.dir},
                 {"id", member(c, "id")},
                 {"statement", member(c, "statement")},
                 {"measured", member(c, "measured")},
                 {"comparator", member(c, "comparator")},
                 {"threshold", member(c, "threshold")},
                 {"passed", member(c, "passed") == true}};
      if (c.contains("plot")) claim["plot"] = member(c, "plot");
      out.push_back(std::move(claim));
    }
  }
  return dump_json(out, 2) + "\n";
}

void write_claims_json(const std::vector<std::string>& run_dirs, const std::string& path) {
  write_file_atomic(path, claims_json(run_dirs));
}

}  // namespace lmlab
