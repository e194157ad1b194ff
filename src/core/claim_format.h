// Private header (not part of the public API): how the comparison (page and terminal table) and
// the history write claims' numbers.
#pragma once

#include <optional>
#include <string>

namespace lmlab {

// "%.4g", or "NaN".
std::string format_number(double v);
// A relative change as a percentage: "+12.3%", "-0.5%", "0%"; "changed" when it is infinite.
std::string format_change(double change);
// A fraction as a percentage: 0.05 -> "5%".
std::string format_percent(double fraction);
// A claim on one side: "PASS 0.8765", "FAIL NaN", or "absent".
std::string format_claim_side(std::optional<bool> passed, std::optional<double> measured);

}  // namespace lmlab
