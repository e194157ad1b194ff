// The history of several reproductions in report.html (src/core/history.h).
#include "core/history.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/claim_format.h"
#include "core/html.h"
#include "core/plot_svg.h"
#include "core/run_record.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/run_dirs.h"

namespace lmlab {
namespace {

constexpr int kPlotWidth = 400, kPlotHeight = 250;
constexpr double kLogSpan = 1e3;  // a plot whose positive values span more than this uses a log y axis

struct Point {
  size_t reproduction;  // 1 = the oldest
  double measured;
  bool passed;
};

// One claim (experiment and id) across the reproductions.
struct ClaimHistory {
  std::string paper, experiment, id, statement, comparator;
  double threshold;
  std::vector<Point> points;
};

// Every claim of the reproductions, grouped by paper in the order of the newest reproduction's
// report; a claim only older ones have joins its paper's group at the end.
std::vector<ClaimHistory> claim_histories(const std::vector<std::vector<RunRecord>>& reproductions) {
  std::vector<ClaimHistory> out;
  std::map<std::string, size_t> index;       // experiment + '\n' + id -> position in out
  std::map<std::string, size_t> paper_rank;  // paper heading -> order of first appearance
  for (size_t r = reproductions.size(); r-- > 0;) {
    const std::vector<RunRecord>& runs = reproductions[r];
    for (const PaperGroup& group : group_by_paper(runs)) {
      const std::string paper = group.paper.heading();
      paper_rank.emplace(paper, paper_rank.size());
      for (size_t i : group.runs)
        for (const Json& c : member(runs[i].summary, "claims")) {
          const auto [it, fresh] = index.emplace(runs[i].experiment() + '\n' + field(c, "id"), out.size());
          if (fresh)
            out.push_back({paper, runs[i].experiment(), field(c, "id"), field(c, "statement"), field(c, "comparator"),
                           as_number(member(c, "threshold")), {}});
          out[it->second].points.push_back({r + 1, as_number(member(c, "measured")), member(c, "passed") == true});
        }
    }
  }
  for (ClaimHistory& h : out) std::reverse(h.points.begin(), h.points.end());
  std::stable_sort(out.begin(), out.end(), [&](const ClaimHistory& a, const ClaimHistory& b) {
    return paper_rank.at(a.paper) < paper_rank.at(b.paper);
  });
  return out;
}

void write_reproductions(std::ostream& html, const std::vector<std::string>& dirs,
                         const std::vector<std::vector<RunRecord>>& reproductions) {
  html << "<table><tr><th>#</th><th>Directory</th><th>Started</th><th>Mode</th><th>git</th><th>Claims passed</th>"
          "<th>Wall time</th></tr>\n";
  for (size_t r = 0; r < dirs.size(); ++r) {
    const std::vector<RunRecord>& runs = reproductions[r];
    int claims = 0, passed = 0;
    double wall = 0;
    for (const RunRecord& run : runs) {
      wall += run.wall_s();
      for (const Json& c : member(run.summary, "claims")) {
        ++claims;
        passed += member(c, "passed") == true;
      }
    }
    html << "<tr><td>" << r + 1 << "</td><td>" << escape(dirs[r]) << "</td><td>" << escape(earliest_start(runs))
         << "</td><td>" << escape(run_mode(runs)) << "</td><td>" << escape(common_field(runs, "git_sha"))
         << "</td><td class=\"num\">" << passed << " / " << claims << "</td><td class=\"num\">"
         << Progress::format_seconds(wall) << "</td></tr>\n";
  }
  html << "</table>\n";
}

// The claim's measured values against the reproduction number, with its threshold as a line.
LinePlot history_plot(const ClaimHistory& h, size_t reproductions) {
  Series measured{"measured", {}, {}, {}};
  double low = h.threshold, high = h.threshold;
  for (const Point& p : h.points) {
    measured.x.push_back(static_cast<double>(p.reproduction));
    measured.y.push_back(p.measured);
    if (!std::isnan(p.measured)) low = std::min(low, p.measured), high = std::max(high, p.measured);
  }
  const Series threshold{"threshold", {1.0, static_cast<double>(reproductions)}, {h.threshold, h.threshold}, {}};
  LinePlot plot("", "reproduction", "measured");
  plot.with({measured, threshold});
  if (low > 0 && high / low > kLogSpan) plot.log_y();
  return plot;
}

void write_claim_figure(std::ostream& html, const ClaimHistory& h, size_t reproductions, size_t k) {
  std::string svg, values;
  try {
    svg = svg_image(line_plot_svg(history_plot(h, reproductions), kPlotWidth, kPlotHeight), h.id);
  } catch (const Error& e) {
    svg = "<p class=\"meta\">plot not drawn: " + escape(e.what()) + "</p>";
  }
  for (const Point& p : h.points)
    values += (values.empty() ? "" : " &middot; ") + std::to_string(p.reproduction) + ": " +
              escape(format_claim_side(p.passed, p.measured));
  html << "<figure id=\"history-" << k << "\"><figcaption>" << escape(h.experiment) << " / <b>" << escape(h.id)
       << "</b><br><small class=\"meta\">" << escape(h.statement) << " (" << escape(h.comparator) << " "
       << format_number(h.threshold) << ")</small></figcaption>\n"
       << svg << "\n<p class=\"meta\">" << values << "</p></figure>\n";
}

}  // namespace

void write_history_section(std::ostream& html, const std::vector<std::string>& dirs) {
  std::vector<std::vector<RunRecord>> reproductions;
  for (const std::string& dir : dirs) reproductions.push_back(load_runs(find_run_dirs(dir)));
  html << "<section id=\"history\">\n<h2>History of " << dirs.size() << " reproductions</h2>\n";
  write_reproductions(html, dirs, reproductions);
  const std::vector<ClaimHistory> histories = claim_histories(reproductions);
  for (size_t k = 0; k < histories.size(); ++k) {
    if (k == 0 || histories[k].paper != histories[k - 1].paper)
      html << (k ? "</div>\n" : "") << "<h3>" << escape(histories[k].paper) << "</h3>\n<div class=\"grid\">\n";
    write_claim_figure(html, histories[k], dirs.size(), k);
  }
  if (!histories.empty()) html << "</div>\n";
  html << "</section>\n";
}

}  // namespace lmlab
