// Claims (include/lmlab/core/claims.h).
#include "lmlab/core/claims.h"

#include <cmath>

namespace lmlab {

const char* comparator_symbol(Comparator c) {
  switch (c) {
    case Comparator::Less: return "<";
    case Comparator::LessEqual: return "<=";
    case Comparator::Greater: return ">";
    case Comparator::GreaterEqual: return ">=";
  }
  return "?";
}

Claim make_claim(std::string id, std::string statement, double measured, Comparator comparator,
                 double threshold) {
  Claim c{std::move(id), std::move(statement), measured, comparator, threshold, false, ""};
  if (!std::isnan(measured)) {
    switch (comparator) {
      case Comparator::Less: c.passed = measured < threshold; break;
      case Comparator::LessEqual: c.passed = measured <= threshold; break;
      case Comparator::Greater: c.passed = measured > threshold; break;
      case Comparator::GreaterEqual: c.passed = measured >= threshold; break;
    }
  }
  return c;
}

}  // namespace lmlab
