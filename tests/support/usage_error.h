// Test support (not installed): the message of the UsageError a call must throw.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "lmlab/core/error.h"

namespace lmlab::test_support {

// Runs `f` and returns the message of the lmlab::UsageError it throws; records a test failure and
// returns "" when it throws nothing or something else.
template <typename F>
std::string usage_error(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a UsageError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected a UsageError, nothing was thrown";
  return "";
}

}  // namespace lmlab::test_support

// EXPECT_MENTIONS(message, phrase): the message holds the phrase.
#define EXPECT_MENTIONS(message, phrase) EXPECT_NE((message).find(phrase), std::string::npos) << (message)
