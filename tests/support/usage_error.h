// Test support (not installed): the message of the UsageError (or DataError) a call must throw.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "lmlab/core/error.h"

namespace lmlab::test_support {

// Runs `f` and returns the message of the ErrorType it throws; records a test failure and returns
// "" when it throws nothing or something else.
template <typename ErrorType, typename F>
std::string error_message(F f, const char* expected) {
  try {
    f();
  } catch (const ErrorType& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a " << expected << ", got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected a " << expected << ", nothing was thrown";
  return "";
}

template <typename F>
std::string usage_error(F f) {
  return error_message<UsageError>(f, "UsageError");
}

template <typename F>
std::string data_error(F f) {
  return error_message<DataError>(f, "DataError");
}

}  // namespace lmlab::test_support

// EXPECT_MENTIONS(message, phrase): the message holds the phrase.
#define EXPECT_MENTIONS(message, phrase) EXPECT_NE((message).find(phrase), std::string::npos) << (message)
