// report.html's paper and run sections (src/core/report_runs.h).
#include "core/report_runs.h"

#include <sstream>

#include "core/files.h"
#include "core/html.h"

namespace lmlab {

namespace {

constexpr int kLogTailLines = 40;

std::string log_tail(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > kLogTailLines ? lines.size() - kLogTailLines : 0; i < lines.size(); ++i)
    out += lines[i] + "\n";
  return out;
}

void write_status(std::ostream& html, const RunRecord& run) {
  html << "<p class=\"meta\">" << escape(run.dir);
  for (const char* key : {"status", "seed", "quick", "started", "finished", "wall_s", "version", "git_sha"})
    if (!field(run.summary, key).empty()) html << " &middot; " << key << " " << escape(field(run.summary, key));
  html << "</p>\n";
  if (!run.unreadable.empty())
    html << "<div class=\"alert\"><b>Unreadable run:</b> " << escape(run.unreadable) << "</div>\n";
  if (run.is_failed())
    html << "<div class=\"alert\"><b>This run failed.</b>"
         << (run.failed.empty() ? "" : "<pre>" + escape(run.failed) + "</pre>") << "</div>\n";
  const Json& problems = member(run.summary, "problems");
  if (problems.is_array() && !problems.empty()) {
    html << "<div class=\"alert\"><b>Problems:</b><ul>";
    for (const Json& p : problems) html << "<li>" << escape(show(p)) << "</li>";
    html << "</ul></div>\n";
  }
}

void write_results(std::ostream& html, const RunRecord& run, size_t index) {
  const Json& results = member(run.summary, "results");
  if (results.empty()) return;
  html << "<table><tr><th>Result</th><th>Value</th></tr>\n";
  for (const auto& [key, value] : results.items())
    html << "<tr id=\"" << result_anchor(index, key) << "\"><td>" << escape(key) << "</td><td class=\"val\">"
         << escape(show(value)) << "</td></tr>\n";
  html << "</table>\n";
}

void write_plots(std::ostream& html, const RunRecord& run, size_t index) {
  const std::vector<std::string> plots = plot_names(run.dir);
  html << "<div id=\"" << plots_anchor(index) << "\">\n";
  for (const std::string& plot : plots)
    write_part(html, [&](std::ostream& out) {
      write_figure(out, plot_anchor(index, plot), plot + ".svg", read_file(run.dir + "/" + plot + ".svg"));
    });
  html << "</div>\n";
}

void write_run_section(std::ostream& html, const RunRecord& run, size_t index) {
  html << "<section id=\"" << run_anchor(index) << "\">\n<h3>" << escape(run.experiment()) << "</h3>\n";
  write_status(html, run);
  write_results(html, run, index);
  write_plots(html, run, index);
  const std::string config = run.dir + "/config.toml", log = run.dir + "/log.txt";
  if (file_exists(config))
    write_part(html, [&](std::ostream& out) {
      out << "<h4>Resolved config</h4>\n<pre>" << escape(read_file(config)) << "</pre>\n";
    });
  if (file_exists(log))
    write_part(html, [&](std::ostream& out) {
      out << "<h4>Log (last " << kLogTailLines << " lines)</h4>\n<pre>" << escape(log_tail(log)) << "</pre>\n";
    });
  html << "</section>\n";
}

}  // namespace

std::string paper_anchor(size_t group) { return "paper-" + std::to_string(group); }
std::string run_anchor(size_t run) { return "run-" + std::to_string(run); }
std::string plot_anchor(size_t run, const std::string& name) { return run_anchor(run) + "-plot-" + id_token(name); }
std::string plots_anchor(size_t run) { return run_anchor(run) + "-plots"; }
std::string result_anchor(size_t run, const std::string& key) { return run_anchor(run) + "-result-" + id_token(key); }

void write_paper_sections(std::ostream& html, const std::vector<RunRecord>& runs,
                          const std::vector<PaperGroup>& groups) {
  for (size_t g = 0; g < groups.size(); ++g) {
    const PaperRef& paper = groups[g].paper;
    html << "<section id=\"" << paper_anchor(g) << "\">\n<h2>" << escape(paper.heading());
    if (!paper.arxiv.empty()) html << " <small class=\"meta\">arXiv " << escape(paper.arxiv) << "</small>";
    html << "</h2>\n";
    for (size_t i : groups[g].runs) write_run_section(html, runs[i], i);
    html << "</section>\n";
  }
}

}  // namespace lmlab
