// The comparison as a terminal table, at most 100 columns (include/lmlab/core/compare.h).
#include <cstdio>
#include <sstream>

#include "core/claim_format.h"
#include "lmlab/core/compare.h"

namespace lmlab {
namespace {

constexpr int kName = 40, kSide = 17, kChange = 10;  // column widths: 3 + 2 + 40 + 17 + 17 + 10 + 3 spaces = 92

struct Row {
  std::string experiment, flag, name, a, b, change;
};

// `s` cut to `width` characters, ending in "..." when cut.
std::string fit(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

std::string line(const char* flag, const std::string& name, const std::string& a, const std::string& b,
                 const std::string& change) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-3s  %-*s %-*s %-*s %s\n", flag, kName, fit(name, kName).c_str(), kSide,
                fit(a, kSide).c_str(), kSide, fit(b, kSide).c_str(), fit(change, kChange).c_str());
  return buf;
}

// A table with a heading, its rows under a line per experiment; the heading alone when it has none.
void table(std::ostream& out, const std::string& heading, const std::vector<Row>& rows) {
  out << "\n" << heading << (rows.empty() ? ": none\n" : "\n");
  if (rows.empty()) return;
  out << line("", "", "A (baseline)", "B", "change");
  const std::string* experiment = nullptr;
  for (const Row& row : rows) {
    if (!experiment || *experiment != row.experiment) out << "  " << fit(row.experiment, 96) << "\n";
    experiment = &row.experiment;
    out << line(row.flag.c_str(), row.name, row.a, row.b, row.change);
  }
}

std::vector<Row> value_rows(const std::vector<ValueChange>& changes) {
  std::vector<Row> rows;
  for (const ValueChange& v : changes)
    rows.push_back({v.experiment.empty() ? "(all runs)" : v.experiment, "", v.key, v.a, v.b, format_change(v.change)});
  return rows;
}

// "heading name, name, ..." in lines of at most 100 columns, nothing when `names` is empty.
void wrapped(std::ostream& out, const std::string& heading, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string line = heading;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string item = " " + names[i] + (i + 1 < names.size() ? "," : "");
    if (line.size() + item.size() > 100) {
      out << line << "\n";
      line = "   ";
    }
    line += item;
  }
  out << line << "\n";
}

std::string describe(const RunSet& s) {
  return std::to_string(s.runs) + " run" + (s.runs == 1 ? "" : "s") + ", git " + s.git_sha + ", " + s.mode +
         (s.started.empty() ? "" : ", started " + s.started);
}

}  // namespace

std::string comparison_text(const Comparison& c) {
  std::ostringstream out;
  const std::string tol = format_percent(c.tolerance);
  out << "lmlab compare\n  A (baseline)  " << c.a.dir << "\n                " << describe(c.a) << "\n"
      << "  B             " << c.b.dir << "\n                " << describe(c.b) << "\n";

  std::vector<Row> claims;
  for (const ClaimComparison& claim : c.claims) {
    const char* flag = claim.verdict_changed() ? "!!" : c.beyond(claim.change) ? "~" : "";
    claims.push_back({claim.experiment, flag, claim.id, format_claim_side(claim.passed_a, claim.measured_a),
                      format_claim_side(claim.passed_b, claim.measured_b), format_change(claim.change)});
  }
  table(out, "Claims (!! verdict changed, ~ measured value moved beyond " + tol + ")", claims);
  table(out, "Results that moved beyond " + tol, value_rows(c.results));
  table(out, "Config differences", value_rows(c.config));
  table(out, "Environment differences", value_rows(c.environment));
  out << "\n";
  wrapped(out, "only in A, not compared:", c.only_a);
  wrapped(out, "only in B, not compared:", c.only_b);
  out << c.claims.size() << " claims compared: " << c.verdicts_changed() << " verdicts changed, "
      << c.values_moved() << " measured values moved beyond " << tol << "\n"
      << c.results.size() << " results moved beyond " << tol << ", " << c.config.size() << " config keys differ\n";
  return out.str();
}

}  // namespace lmlab
