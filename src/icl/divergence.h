// Private header (not part of the public API): how the icl fitting loops report divergence.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <c10/util/Exception.h>

#include "lmlab/core/error.h"

namespace lmlab::icl::detail {

// The UsageError every fitting loop throws when its loss or parameters stop being finite.
inline UsageError diverged(const std::string& what, int64_t step, const std::string& detail, double lr) {
  return UsageError(what + " diverged at step " + std::to_string(step) + " (" + detail + "); lower its lr (got " +
                    std::to_string(lr) + ")");
}

// Runs step `step`'s computation f(). After step 0 a UsageError from inside it can only come from
// activations that stopped being finite (the attention rejects NaN/Inf inputs), so it is reported
// as divergence; at step 0 it is the caller's input and passes through unchanged. A LibTorch error
// (an lr beyond the parameters' dtype, overflowing values) is divergence at any step; other lmlab
// errors pass through.
template <class F>
auto guard_divergence(const std::string& what, int64_t step, double lr, F f) {
  try {
    return f();
  } catch (const UsageError& e) {
    if (step == 0) throw;
    throw diverged(what, step, e.what(), lr);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw diverged(what, step, e.what_without_backtrace(), lr);
  } catch (const std::exception& e) {  // c10's scalar overflow check throws std::runtime_error
    throw diverged(what, step, e.what(), lr);
  }
}

}  // namespace lmlab::icl::detail
