// Reading run directories (src/core/run_record.h).
#include "core/run_record.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/files.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

constexpr size_t kListPreview = 16;  // longer lists are cut after this many values

// Why a parsed summary.json cannot be used, or "".
std::string summary_problem(const Json& s) {
  if (!s.is_object()) return "summary.json is not a JSON object";
  if (!member(s, "claims").is_null() && !member(s, "claims").is_array())
    return "summary.json: \"claims\" is not an array";
  if (!member(s, "results").is_null() && !member(s, "results").is_object())
    return "summary.json: \"results\" is not an object";
  for (const Json& c : member(s, "claims"))
    if (!c.is_object()) return "summary.json: a claim is not an object";
  return "";
}

// "P4" -> 4; 0 for a name without a paper number.
int paper_number(const std::string& name) {
  const auto digit = [](unsigned char c) { return std::isdigit(c) != 0; };
  if (name.size() < 2 || name[0] != 'P' || !std::all_of(name.begin() + 1, name.end(), digit)) return 0;
  return std::stoi(name.substr(1));
}

}  // namespace

const Json& member(const Json& obj, const char* key) {
  static const Json missing;
  if (!obj.is_object()) return missing;
  const auto it = obj.find(key);
  return it == obj.end() ? missing : *it;
}

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

std::string field(const Json& obj, const char* key) {
  return obj.contains(key) ? show(member(obj, key)) : "";
}

double as_number(const Json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

std::string PaperRef::heading() const {
  if (key.empty()) return "unreadable runs";
  return title.empty() ? name : name + " \u00b7 " + title;
}

bool RunRecord::is_failed() const { return !failed.empty() || member(summary, "status") == "failed"; }

std::string RunRecord::experiment() const {
  const std::string name = field(summary, "experiment");
  return name.empty() ? fs::path(dir).filename().string() : name;
}

PaperRef RunRecord::paper() const {
  PaperRef p;
  const std::string label = field(summary, "paper");
  if (!unreadable.empty()) return p;
  const size_t at = label.find("(arXiv ");
  if (at == std::string::npos) {
    p.key = p.name = label.empty() ? "(no paper)" : label;
  } else {
    const size_t from = at + 7, to = label.find_first_not_of("0123456789.v", from);
    p.arxiv = label.substr(from, to == std::string::npos ? std::string::npos : to - from);
    p.key = p.arxiv;
    const size_t space = label.find(' ');
    p.name = at == 0 ? "arXiv " + p.arxiv : label.substr(0, std::min(space, at));
    if (space + 1 < at) p.title = label.substr(space + 1, at - space - 2);  // the words between name and "(arXiv"
  }
  const std::string title = field(summary, "paper_title");
  if (!title.empty()) p.title = title;
  return p;
}

double RunRecord::wall_s() const {
  const Json& w = member(summary, "wall_s");
  return w.is_number() ? w.get<double>() : 0.0;
}

Json RunRecord::environment() const {
  const Json& env = member(summary, "environment");
  if (!env.is_array()) return env.is_object() ? env : Json::object();
  Json out = Json::object();
  for (const Json& pair : env)
    if (pair.is_array() && pair.size() == 2) out[show(pair[0])] = pair[1];
  return out;
}

std::vector<std::string> plot_names(const std::string& dir) {
  std::vector<std::string> names;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".svg") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

RunRecord load_run(const std::string& dir) {
  RunRecord run{dir, Json::object(), "", ""};
  if (!fs::is_directory(dir)) {
    run.unreadable = "no such directory";
    return run;
  }
  if (file_exists(dir + "/FAILED")) {
    try {
      run.failed = read_file(dir + "/FAILED");
    } catch (const DataError& e) {
      run.failed = std::string("(FAILED cannot be read: ") + e.what() + ")";
    }
    if (run.failed.empty()) run.failed = "(FAILED is empty)";
  }
  if (!file_exists(dir + "/summary.json")) {
    run.unreadable = "summary.json is missing";
    return run;
  }
  try {
    run.summary = Json::parse(read_file(dir + "/summary.json"));
    run.unreadable = summary_problem(run.summary);
  } catch (const Json::exception& e) {
    run.unreadable = std::string("summary.json is not valid JSON: ") + e.what();
  } catch (const Error& e) {
    run.unreadable = e.what();
  }
  if (!run.unreadable.empty()) run.summary = Json::object();
  return run;
}

std::vector<RunRecord> load_runs(const std::vector<std::string>& dirs) {
  std::vector<RunRecord> runs;
  for (const std::string& dir : dirs) runs.push_back(load_run(dir));
  return runs;
}

std::string common_field(const std::vector<RunRecord>& runs, const char* key) {
  if (runs.empty()) return "";
  const std::string first = field(runs.front().summary, key);
  for (const RunRecord& run : runs)
    if (field(run.summary, key) != first) return "mixed";
  return first;
}

std::string run_mode(const std::vector<RunRecord>& runs) {
  const std::string quick = common_field(runs, "quick");
  return quick == "true" ? "quick" : quick == "false" ? "full" : quick;
}

std::string earliest_start(const std::vector<RunRecord>& runs) {
  std::string first;
  for (const RunRecord& run : runs) {
    const std::string started = field(run.summary, "started");
    if (!started.empty() && (first.empty() || started < first)) first = started;
  }
  return first;
}

std::vector<PaperGroup> group_by_paper(const std::vector<RunRecord>& runs) {
  std::vector<PaperGroup> groups;
  for (size_t i = 0; i < runs.size(); ++i) {
    const PaperRef paper = runs[i].paper();
    auto g = std::find_if(groups.begin(), groups.end(), [&](const PaperGroup& x) { return x.paper.key == paper.key; });
    if (g == groups.end()) g = groups.insert(groups.end(), PaperGroup{paper, {}, 0, 0, 0, 0.0});
    if (!field(runs[i].summary, "paper_title").empty()) g->paper = paper;  // a recorded title beats the label's words
    g->runs.push_back(i);
    g->failed_runs += runs[i].is_failed() || !runs[i].unreadable.empty();
    g->wall_s += runs[i].wall_s();
    for (const Json& c : member(runs[i].summary, "claims")) {
      ++g->claims;
      g->passed += member(c, "passed") == true;
    }
  }
  // Unreadable runs (empty key) last; then by paper number, "foundation" (0) first.
  std::stable_sort(groups.begin(), groups.end(), [](const PaperGroup& a, const PaperGroup& b) {
    auto rank = [](const PaperGroup& g) { return g.paper.key.empty() ? 1000 : paper_number(g.paper.name); };
    return rank(a) < rank(b);
  });
  return groups;
}

}  // namespace lmlab
