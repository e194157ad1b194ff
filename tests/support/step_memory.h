// Test support: a training-step memory estimate (lmlab/train/step_memory.h) against the peak of
// LibTorch's CPU allocations in real steps, and its enforcement.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "../bench/peak_memory.h"  // the peak of LibTorch's CPU allocations
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

namespace lmlab::test_support {

// The peak of `step` (run twice: the optimizer's moments appear in the first) against `estimate`.
inline void expect_estimate_holds(double estimate, const std::function<void()>& step, const std::string& what) {
  const int64_t peak = PeakMemory::during([&] {
    step();
    step();
  });
  std::printf("%s: estimate %.3g bytes, peak %.3g, ratio %.2f\n", what.c_str(), estimate, double(peak),
              estimate / double(peak));
  EXPECT_GT(estimate, 0.5 * double(peak)) << what << ": estimate " << estimate << ", peak " << peak;
  EXPECT_LT(estimate, 2.0 * double(peak)) << what << ": estimate " << estimate << ", peak " << peak;
}

// Runs `make` under a limit of half the estimate and expects a UsageError naming the limit.
inline void expect_refused(double estimate, const std::function<void()>& make) {
  const uint64_t limit = memory_limit();
  set_memory_limit(uint64_t(estimate / 2));
  try {
    make();
    ADD_FAILURE() << "not refused";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--max-memory"), std::string::npos) << e.what();
  }
  set_memory_limit(limit);
}

}  // namespace lmlab::test_support
