// The HTML report and claims.json (include/lmlab/core/report.h).
//
// Every string taken from a run directory is HTML-escaped, except the SVG plots, which are inlined
// as markup: their XML prolog is dropped and their ids (gnuplot repeats the same ones in every
// file) get a per-plot prefix, so the page holds unique ids and each plot resolves its own refs.
#include "lmlab/core/report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/build_info.h"
#include "core/files.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

using Json = nlohmann::ordered_json;

constexpr int kLogTailLines = 40;
constexpr size_t kListPreview = 16;  // longer lists in the results table are cut after this many

// obj[key], or null when obj is not an object or lacks the key.
const Json& member(const Json& obj, const char* key) {
  static const Json missing;
  const auto it = obj.find(key);
  return it == obj.end() ? missing : *it;
}

// One run directory as read from disk.
struct RunEntry {
  std::string dir;
  Json summary;            // a JSON object; empty when the run is unreadable
  std::string unreadable;  // why summary.json cannot be used; empty when readable
  std::string failed;      // the text of FAILED, when the file exists
  bool is_failed() const { return !failed.empty() || member(summary, "status") == "failed"; }
};

// Reads the run; problems become `unreadable`, never exceptions.
RunEntry load_run(const std::string& dir) {
  RunEntry run{dir, Json::object(), "", ""};
  if (!fs::is_directory(dir)) {
    run.unreadable = "no such directory";
    return run;
  }
  if (file_exists(dir + "/FAILED")) {
    run.failed = read_file(dir + "/FAILED");
    if (run.failed.empty()) run.failed = "(FAILED is empty)";
  }
  if (!file_exists(dir + "/summary.json")) {
    run.unreadable = "summary.json is missing";
    return run;
  }
  try {
    run.summary = Json::parse(read_file(dir + "/summary.json"));
  } catch (const Json::exception& e) {
    run.unreadable = std::string("summary.json is not valid JSON: ") + e.what();
    return run;
  } catch (const Error& e) {
    run.unreadable = e.what();
    return run;
  }
  if (!run.summary.is_object()) {
    run.unreadable = "summary.json is not a JSON object";
  } else if (!member(run.summary, "claims").is_null() && !member(run.summary, "claims").is_array()) {
    run.unreadable = "summary.json: \"claims\" is not an array";
  } else if (!member(run.summary, "results").is_null() && !member(run.summary, "results").is_object()) {
    run.unreadable = "summary.json: \"results\" is not an object";
  } else {
    for (const Json& c : member(run.summary, "claims"))
      if (!c.is_object()) run.unreadable = "summary.json: a claim is not an object";
  }
  if (!run.unreadable.empty()) run.summary = Json::object();
  return run;
}

std::vector<RunEntry> load_runs(const std::vector<std::string>& run_dirs) {
  std::vector<RunEntry> runs;
  for (const std::string& dir : run_dirs) runs.push_back(load_run(dir));
  return runs;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// A JSON value as readable text: floats as %.4g, null (how NaN is stored) as NaN, long lists cut.
std::string show(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "NaN";
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size() && i < kListPreview; ++i) out += (i ? ", " : "") + show(v[i]);
    if (v.size() > kListPreview) out += ", ... (" + std::to_string(v.size()) + " values)";
    return out + "]";
  }
  return v.dump();  // integers, booleans, objects
}

// obj[key] as text, "" when absent.
std::string field(const Json& obj, const char* key) {
  return obj.contains(key) ? show(member(obj, key)) : "";
}

std::string experiment_name(const RunEntry& run) {
  const std::string name = field(run.summary, "experiment");
  return name.empty() ? fs::path(run.dir).filename().string() : name;
}

// The markup of an SVG file ready to sit inside HTML, or "" when it holds no <svg element.
std::string inline_svg(const std::string& svg, const std::string& id_prefix) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) return "";
  std::string out;
  for (size_t i = start; i < svg.size(); ++i) {
    out += svg[i];
    for (const char* pattern : {"id=\"", "id='", "href=\"#", "href='#", "url(#"}) {
      const size_t n = std::char_traits<char>::length(pattern);
      const bool is_id = pattern[0] == 'i';
      if (out.size() >= n && out.compare(out.size() - n, n, pattern) == 0 &&
          (!is_id || (out.size() > n && std::isspace(static_cast<unsigned char>(out[out.size() - n - 1])))))
        out += id_prefix;
    }
  }
  return out;
}

std::string log_tail(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > kLogTailLines ? lines.size() - kLogTailLines : 0; i < lines.size(); ++i)
    out += lines[i] + "\n";
  return out;
}

const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{font-family:monospace;white-space:nowrap}td.val{font-family:monospace;word-break:break-word}
.pass{background:#d7f5d7;color:#0a5a0a;font-weight:bold}.fail{background:#fbd5d5;color:#8a0b0b;font-weight:bold}
.meta{color:#555}.summary{font-size:1.15em}
.alert{border:2px solid #c22;background:#fff0f0;padding:.6em 1em;margin:1em 0}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow-x:auto;white-space:pre-wrap}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figure svg image{image-rendering:pixelated}
figcaption{font-weight:bold;color:#444}
)";

void write_header(std::ostream& html, const std::vector<RunEntry>& runs, const std::string& title) {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" << escape(title)
       << "</title>\n<style>" << kStyle << "</style></head><body>\n<h1>" << escape(title) << "</h1>\n"
       << "<p class=\"meta\">" << date << " &middot; lmlab " << build_version() << " (git "
       << build_git_sha() << ")</p>\n";
  for (const RunEntry& run : runs) {
    const Json& env = member(run.summary, "environment");
    if (env.is_null()) continue;
    html << "<p class=\"meta\">Environment of " << escape(experiment_name(run)) << ": ";
    bool first = true;
    for (const auto& [key, value] : env.items()) {  // {name: value} or [[name, value], ...]
      const bool pair = value.is_array() && value.size() == 2;
      html << (first ? "" : " &middot; ") << escape(pair ? show(value[0]) : key) << ": "
           << escape(show(pair ? value[1] : value));
      first = false;
    }
    html << "</p>\n";
    break;
  }
}

void write_summary(std::ostream& html, const std::vector<RunEntry>& runs) {
  int claims = 0, passed = 0, failed_runs = 0, unreadable = 0;
  for (const RunEntry& run : runs) {
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
    html << "<li><a href=\"#run-" << i << "\">" << escape(experiment_name(runs[i])) << "</a>: "
         << (runs[i].unreadable.empty() ? "failed" : "unreadable: " + escape(runs[i].unreadable));
    if (!runs[i].failed.empty()) html << ": " << escape(runs[i].failed.substr(0, runs[i].failed.find('\n')));
    html << "</li>\n";
  }
  html << "</ul></div>\n";
}

void write_claims_table(std::ostream& html, const std::vector<RunEntry>& runs) {
  html << "<h2>Claims</h2>\n<table><tr><th>Paper</th><th>Experiment</th><th>Claim</th><th>Statement</th>"
          "<th>Measured</th><th>Threshold</th><th>Verdict</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const Json& c : member(runs[i].summary, "claims")) {
      const bool ok = member(c, "passed") == true;
      html << "<tr><td>" << escape(field(runs[i].summary, "paper")) << "</td><td><a href=\"#run-" << i << "\">"
           << escape(experiment_name(runs[i])) << "</a></td><td>" << escape(field(c, "id")) << "</td><td>"
           << escape(field(c, "statement")) << "</td><td class=\"num\">" << escape(field(c, "measured"))
           << "</td><td class=\"num\">" << escape(field(c, "comparator")) << " " << escape(field(c, "threshold"))
           << "</td><td class=\"" << (ok ? "pass\">PASS" : "fail\">FAIL") << "</td></tr>\n";
    }
  }
  html << "</table>\n";
}

void write_run_section(std::ostream& html, const RunEntry& run, size_t index) {
  const std::string paper = field(run.summary, "paper");
  html << "<section id=\"run-" << index << "\">\n<h2>" << escape(experiment_name(run));
  if (!paper.empty()) html << " <small class=\"meta\">" << escape(paper) << "</small>";
  html << "</h2>\n<p class=\"meta\">" << escape(run.dir);
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
  const Json& results = member(run.summary, "results");
  if (!results.empty()) {
    html << "<table><tr><th>Result</th><th>Value</th></tr>\n";
    for (const auto& [key, value] : results.items())
      html << "<tr><td>" << escape(key) << "</td><td class=\"val\">" << escape(show(value)) << "</td></tr>\n";
    html << "</table>\n";
  }

  std::vector<fs::path> svgs;
  if (fs::is_directory(run.dir))
    for (const auto& e : fs::directory_iterator(run.dir))
      if (e.is_regular_file() && e.path().extension() == ".svg") svgs.push_back(e.path());
  std::sort(svgs.begin(), svgs.end());
  for (size_t k = 0; k < svgs.size(); ++k) {
    const std::string svg =
        inline_svg(read_file(svgs[k].string()), "r" + std::to_string(index) + "p" + std::to_string(k) + "-");
    html << "<figure><figcaption>" << escape(svgs[k].filename().string()) << "</figcaption>\n"
         << (svg.empty() ? "<p class=\"fail\">not an SVG file</p>" : svg) << "\n</figure>\n";
  }

  const std::string config = run.dir + "/config.toml", log = run.dir + "/log.txt";
  if (file_exists(config)) html << "<h3>Resolved config</h3>\n<pre>" << escape(read_file(config)) << "</pre>\n";
  if (file_exists(log))
    html << "<h3>Log (last " << kLogTailLines << " lines)</h3>\n<pre>" << escape(log_tail(log)) << "</pre>\n";
  html << "</section>\n";
}

}  // namespace

void write_report(const std::vector<std::string>& run_dirs, const std::string& html_path,
                  const std::string& title) {
  const std::vector<RunEntry> runs = load_runs(run_dirs);
  std::ostringstream html;
  write_header(html, runs, title);
  write_summary(html, runs);
  write_claims_table(html, runs);
  for (size_t i = 0; i < runs.size(); ++i) write_run_section(html, runs[i], i);
  html << "</body></html>\n";
  write_file_atomic(html_path, html.str());
}

std::string claims_json(const std::vector<std::string>& run_dirs) {
  Json out = Json::array();
  for (const RunEntry& run : load_runs(run_dirs)) {
    for (const Json& c : member(run.summary, "claims"))
      out.push_back({{"experiment", member(run.summary, "experiment")},
                     {"paper", member(run.summary, "paper")},
                     {"run_dir", run.dir},
                     {"id", member(c, "id")},
                     {"statement", member(c, "statement")},
                     {"measured", member(c, "measured")},
                     {"comparator", member(c, "comparator")},
                     {"threshold", member(c, "threshold")},
                     {"passed", member(c, "passed") == true}});
  }
  return out.dump(2) + "\n";
}

void write_claims_json(const std::vector<std::string>& run_dirs, const std::string& path) {
  write_file_atomic(path, claims_json(run_dirs));
}

}  // namespace lmlab
