// A claim: one statement of a paper turned into a measured number and a threshold fixed in the
// experiment's code before the run (DESIGN.md "Runs, results, claims"). A NaN measurement fails.
#pragma once

#include <string>

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
};

// Builds a claim and decides it: passed = (measured comparator threshold), false for NaN.
Claim make_claim(std::string id, std::string statement, double measured, Comparator comparator,
                 double threshold);

}  // namespace lmlab
