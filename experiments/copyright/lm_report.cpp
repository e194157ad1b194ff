// copyright.lm's report (experiments/copyright/lm_report.h).
#include "copyright/lm_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// One series per p of the mean over seeds of `key` against gamma; bars reach the farther of min and max.
std::vector<Series> by_fraction(const LmGrid& grid, const std::string& key) {
  std::vector<Series> out;
  for (const double p : grid.fractions()) {
    Series s{"p = " + fmt(p), {}, {}, {}};
    for (const double g : grid.gammas()) {
      const auto st = grid.stats(p, g, key);
      s.x.push_back(g), s.y.push_back(st.mean), s.yerr.push_back(std::max(st.mean - st.min, st.max - st.mean));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

void LmGrid::add(const Row& row) { rows_[{row_number(row, "p"), row_number(row, "gamma")}].push_back(row); }

const std::vector<Row>& LmGrid::rows(double p, double gamma) const {
  const auto it = rows_.find({p, gamma});
  LMLAB_ASSERT(it != rows_.end() && !it->second.empty(), "no rows for p ", p, ", gamma ", gamma);
  return it->second;
}

SeedStats LmGrid::stats(double p, double gamma, const std::string& key) const {
  const auto v = column(rows(p, gamma), key);
  SeedStats s{*std::min_element(v.begin(), v.end()), 0, *std::max_element(v.begin(), v.end())};
  for (const double x : v) s.mean += x / static_cast<double>(v.size());
  return s;
}

Row row_without_examples(const Row& row) {
  Row out;
  for (const auto& [k, v] : row)
    if (k.rfind("example_", 0) != 0) out.emplace_back(k, v);
  return out;
}

std::string escape_text(const std::string& text) {
  std::string out;
  for (const unsigned char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out;
}

void report_lm(RunContext& ctx, const LmGrid& grid, const std::optional<Row>& emulated) {
  for (const char* key : {"tau_ce", "perplexity", "cp_exact", "cp_lcs", "other_lcs", "unseen_lcs", "ce_cp", "ce_rest"})
    for (const double p : grid.fractions()) {
      FloatList lo, mean, hi;
      for (const double g : grid.gammas()) {
        const auto s = grid.stats(p, g, key);
        lo.push_back(s.min), mean.push_back(s.mean), hi.push_back(s.max);
      }
      const std::string stem = std::string(key) + ".p=" + fmt(p);
      ctx.result(stem + ".min", lo);
      ctx.result(stem + ".mean", mean);
      ctx.result(stem + ".max", hi);
    }
  ctx.result("gammas", grid.gammas());
  ctx.result("fractions", grid.fractions());
  ctx.plot(LinePlot("tau_CE = CE(copyrighted) - CE(other) on training text (mean; bars to min/max over seeds)",
                    "gamma", "nats per byte")
               .with(by_fraction(grid, "tau_ce")),
           "tau_ce");
  ctx.plot(LinePlot("Held-out perplexity per byte (mean; bars to min/max over seeds)", "gamma", "perplexity")
               .with(by_fraction(grid, "perplexity")),
           "perplexity");
  auto extraction = by_fraction(grid, "cp_lcs");
  for (auto& s : extraction) s.name = "copyrighted, " + s.name;
  Series unseen{"unseen documents (all p)", {}, {}, {}};
  for (const double g : grid.gammas()) {
    double sum = 0;
    for (const double p : grid.fractions()) sum += grid.stats(p, g, "unseen_lcs").mean;
    unseen.x.push_back(g), unseen.y.push_back(sum / static_cast<double>(grid.fractions().size()));
  }
  extraction.push_back(unseen);
  ctx.plot(LinePlot("Extraction: longest common substring of greedy continuation and truth / length", "gamma",
                    "LCS fraction")
               .with(extraction),
           "extraction");

  // Examples: the first seed at the first p, unprotected against the largest gamma.
  const double p = grid.fractions().front(), g0 = grid.gammas().front(), g1 = grid.gammas().back();
  const Row& plain = grid.rows(p, g0).front();
  const Row& guarded = grid.rows(p, g1).front();
  const auto& prefixes = std::get<StringList>(row_value(plain, "example_prefixes"));
  const auto& truths = std::get<StringList>(row_value(plain, "example_truths"));
  const auto& before = std::get<StringList>(row_value(plain, "example_continuations"));
  const auto& after = std::get<StringList>(row_value(guarded, "example_continuations"));
  StringList lines;
  for (size_t i = 0; i < prefixes.size() && i < after.size(); ++i) {
    lines.push_back("prefix \"" + escape_text(prefixes[i]) + "\" | truth \"" + escape_text(truths[i]) +
                    "\" | gamma " + fmt(g0) + ": \"" + escape_text(before[i]) + "\" | gamma " + fmt(g1) + ": \"" +
                    escape_text(after[i]) + "\"");
    ctx.log("example " + std::to_string(i + 1) + ": " + lines.back());
  }
  ctx.result("extraction_examples", lines);

  if (emulated) {
    const double ep = row_number(*emulated, "p"), eg = row_number(*emulated, "gamma");
    const Row& correct = grid.rows(ep, eg).front();
    const double released_ppl = std::exp(row_number(*emulated, "released_eval_loss"));
    ctx.result("released.tau_ce", row_number(*emulated, "tau_ce"));
    ctx.result("released.true_perplexity", row_number(*emulated, "perplexity"));
    ctx.result("released.reported_perplexity", released_ppl);
    ctx.result("released.logged_loss", row_number(*emulated, "last_logged_loss"));
    ctx.result("released.true_loss", row_number(*emulated, "last_loss"));
    ctx.result("released.cp_lcs", row_number(*emulated, "cp_lcs"));
    ctx.result("correct.tau_ce", row_number(correct, "tau_ce"));
    ctx.result("correct.perplexity", row_number(correct, "perplexity"));
    ctx.result("correct.cp_lcs", row_number(correct, "cp_lcs"));
    ctx.log("released-code emulation at p " + fmt(ep) + ", gamma " + fmt(eg) + ": tau_CE " +
            fmt(row_number(*emulated, "tau_ce")) + " (correct loss: " + fmt(row_number(correct, "tau_ce")) +
            "), held-out perplexity " + fmt(row_number(*emulated, "perplexity")) + " but reported " + fmt(released_ppl) +
            ", last logged loss " + fmt(row_number(*emulated, "last_logged_loss")) + " for a true " +
            fmt(row_number(*emulated, "last_loss")));
  }
}

}  // namespace lmlab
