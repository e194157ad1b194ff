// The comparison as HTML (src/core/compare_html.h; write_comparison_page of
// include/lmlab/core/compare.h). Every string from the runs is escaped.
#include "core/compare_html.h"

#include <cstdio>
#include <sstream>
#include <tuple>
#include <utility>

#include "core/claim_format.h"
#include "core/files.h"
#include "core/html.h"
#include "core/plot_data.h"
#include "core/plot_svg.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

constexpr int kPlotWidth = 800, kPlotHeight = 520;  // as the runs draw theirs

void write_sides(std::ostream& html, const Comparison& c) {
  html << "<table><tr><th></th><th>Directory</th><th>Runs</th><th>git</th><th>Mode</th><th>Started</th></tr>\n";
  for (const auto& [label, side] : {std::pair<const char*, const RunSet*>{"A (baseline)", &c.a}, {"B", &c.b}})
    html << "<tr><td>" << label << "</td><td>" << escape(side->dir) << "</td><td>" << side->runs << "</td><td>"
         << escape(side->git_sha) << "</td><td>" << escape(side->mode) << "</td><td>" << escape(side->started)
         << "</td></tr>\n";
  html << "</table>\n";
}

void write_counts(std::ostream& html, const Comparison& c) {
  const std::string tol = format_percent(c.tolerance);
  html << "<p class=\"summary\"><b>" << c.claims.size() << " claims compared: " << c.verdicts_changed()
       << " verdicts changed</b> &middot; " << c.values_moved() << " measured values moved beyond " << tol
       << " &middot; " << c.results.size() << " results beyond " << tol << " &middot; " << c.config.size()
       << " config keys differ</p>\n<p class=\"meta\">Tolerance: a relative change (B - A) / |A| up to " << tol
       << " is within it.</p>\n";
  if (c.only_a.empty() && c.only_b.empty()) return;
  html << "<div class=\"alert\"><b>Experiments only one side ran (not compared):</b><ul>\n";
  for (const std::string& e : c.only_a) html << "<li>only in A: " << escape(e) << "</li>\n";
  for (const std::string& e : c.only_b) html << "<li>only in B: " << escape(e) << "</li>\n";
  html << "</ul></div>\n";
}

std::string verdict_cell(std::optional<bool> passed, std::optional<double> measured) {
  const char* cls = !passed ? "num" : *passed ? "num pass" : "num fail";
  return std::string("<td class=\"") + cls + "\">" + escape(format_claim_side(passed, measured)) + "</td>";
}

void write_claims(std::ostream& html, const Comparison& c) {
  html << "<h3>Claims</h3>\n<table><tr><th>Experiment</th><th>Claim</th><th>Threshold</th><th>A (baseline)</th>"
          "<th>B</th><th>Change</th></tr>\n";
  const std::string* paper = nullptr;
  for (const ClaimComparison& claim : c.claims) {
    if (!paper || *paper != claim.paper)
      html << "<tr class=\"group\"><th colspan=\"6\">" << escape(claim.paper) << "</th></tr>\n";
    paper = &claim.paper;
    html << "<tr" << (claim.verdict_changed() ? " class=\"changed\"" : "") << "><td>" << escape(claim.experiment)
         << "</td><td>" << escape(claim.id) << "<br><small class=\"meta\">" << escape(claim.statement)
         << "</small></td><td class=\"num\">"
         << escape(claim.comparator) << " " << format_number(claim.threshold) << "</td>"
         << verdict_cell(claim.passed_a, claim.measured_a) << verdict_cell(claim.passed_b, claim.measured_b)
         << "<td class=\"num\">"
         << (c.beyond(claim.change) ? "<b>" + format_change(claim.change) + "</b>" : format_change(claim.change))
         << (claim.verdict_changed() ? " verdict changed" : "") << "</td></tr>\n";
  }
  html << "</table>\n";
}

void write_changes(std::ostream& html, const std::string& heading, const char* what,
                   const std::vector<ValueChange>& changes) {
  html << "<h3>" << escape(heading) << "</h3>\n";
  if (changes.empty()) {
    html << "<p class=\"meta\">None.</p>\n";
    return;
  }
  html << "<table><tr><th>Experiment</th><th>" << what << "</th><th>A (baseline)</th><th>B</th><th>Change</th></tr>\n";
  for (const ValueChange& v : changes)
    html << "<tr><td>" << escape(v.experiment.empty() ? "(all runs)" : v.experiment) << "</td><td>" << escape(v.key)
         << "</td><td class=\"val\">" << escape(v.a) << "</td><td class=\"val\">" << escape(v.b)
         << "</td><td class=\"num\">" << format_change(v.change) << "</td></tr>\n";
  html << "</table>\n";
}

// The SVG of a plot pair drawn on one set of axes; "" with the reason in `why` when the runs did
// not both save its data, the axes differ, or drawing fails.
std::string overlay_svg(const PlotPair& p, std::string& why) {
  const std::string data_a = p.dir_a + "/" + p.name + ".plot.json", data_b = p.dir_b + "/" + p.name + ".plot.json";
  if (!file_exists(data_a) || !file_exists(data_b)) {
    why = "side by side: a run has no saved data for this plot (an image, or a run older than the data files)";
    return "";
  }
  try {
    const LinePlot a = load_plot_data(data_a), b = load_plot_data(data_b);
    if (a.xlabel != b.xlabel || a.ylabel != b.ylabel || a.logx != b.logx || a.logy != b.logy) {
      why = "side by side: the two plots have different axes";
      return "";
    }
    return overlay_svg(a, b, kPlotWidth, kPlotHeight);
  } catch (const Error& e) {
    why = std::string("side by side: ") + e.what();
    return "";
  }
}

void write_plot_pair(std::ostream& html, const PlotPair& p, const std::string& id) {
  std::string why;
  const std::string overlay = p.in_a && p.in_b ? overlay_svg(p, why) : "";
  if (!overlay.empty()) {
    write_figure(html, id, p.name + ": A and B overlaid", overlay);
    return;
  }
  html << "<div class=\"pair\" id=\"" << id << "\">\n";
  for (const auto& [dir, in, side] : {std::tuple<const std::string*, bool, const char*>{&p.dir_a, p.in_a, "A"},
                                      {&p.dir_b, p.in_b, "B"}}) {
    const std::string caption = p.name + " (" + side + ")";
    const std::string svg = *dir + "/" + p.name + ".svg";
    if (in) write_part(html, [&](std::ostream& out) { write_figure(out, "", caption, read_file(svg)); });
    else html << "<figure><figcaption>" << escape(caption) << "</figcaption><p class=\"meta\">not drawn in " << side
              << "</p></figure>\n";
  }
  html << "</div>\n";
  if (!why.empty()) html << "<p class=\"meta\">" << escape(why) << "</p>\n";
}

void write_plots(std::ostream& html, const Comparison& c) {
  html << "<h3>Plots</h3>\n";
  const std::string* experiment = nullptr;
  for (size_t k = 0; k < c.plots.size(); ++k) {
    if (!experiment || *experiment != c.plots[k].experiment)
      html << "<h4>" << escape(c.plots[k].experiment) << "</h4>\n";
    experiment = &c.plots[k].experiment;
    write_plot_pair(html, c.plots[k], "c" + std::to_string(k));
  }
}

}  // namespace

void write_comparison_section(std::ostream& html, const Comparison& c, const std::string& heading) {
  html << "<section id=\"comparison\">\n<h2>" << escape(heading) << "</h2>\n";
  write_sides(html, c);
  write_counts(html, c);
  write_claims(html, c);
  write_changes(html, "Results that moved beyond " + format_percent(c.tolerance), "Result", c.results);
  write_changes(html, "Config differences", "Key", c.config);
  write_changes(html, "Environment differences", "Entry", c.environment);
  write_plots(html, c);
  html << "</section>\n";
}

void write_comparison_page(const Comparison& c, const std::string& html_path) {
  std::ostringstream html;
  open_page(html, "lmlab compare " + c.a.dir + " " + c.b.dir);
  write_comparison_section(html, c, "Comparison");
  close_page(html);
  write_file_atomic(html_path, html.str());
}

}  // namespace lmlab
