// A claim: one statement of a paper turned into a measured number and a threshold fixed in the
// experiment's code before the run (DESIGN.md "Runs, results, claims"). A NaN measurement fails.
#pragma once

#include <string>
#include <utility>

namespace lmlab {

enum class Comparator { Less, LessEqual, Greater, GreaterEqual };

// "<", "<=", ">", ">=".
const char* comparator_symbol(Comparator c);

struct Claim {
  std::string id;         // short stable identifier, e.g. "test_accuracy"
  std::string statement;  // the paper's statement as measured here
  double measured = 0.0;
  Comparator comparator = Comparator::GreaterEqual;
  double threshold = 0.0;
  bool passed = false;
  std::string plot;  // the plot that shows the evidence: its name as given to RunContext::plot, or ""

  // make_claim(...).shown_in("mse_vs_width"): names the plot the report links the claim to.
  Claim& shown_in(std::string plot_name) {
    plot = std::move(plot_name);
    return *this;
  }
};

// Builds a claim and decides it: passed = (measured comparator threshold), false for NaN.
Claim make_claim(std::string id, std::string statement, double measured, Comparator comparator,
                 double threshold);

}  // namespace lmlab
