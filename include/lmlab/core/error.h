// lmlab's two error tiers (DESIGN.md, conventions 3-4).
//
// User errors (bad input, bad config, missing data) throw a subclass of lmlab::Error whose message
// names the problem and the fix; the CLI maps each kind to its exit code. Broken internal
// invariants use LMLAB_ASSERT, which throws lmlab::InternalError with the file and line.
// The library never calls exit().
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace lmlab {

// Exit codes of the CLI, one per error kind (DESIGN.md "Exit codes"), and VerdictChanged: `lmlab
// compare` (and `reproduce --baseline`) found a claim whose verdict differs from the baseline's.
enum class ExitCode : int { Ok = 0, Failure = 1, Usage = 2, Data = 3, VerdictChanged = 4 };

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual ExitCode exit_code() const { return ExitCode::Failure; }
};

// A command line or config problem: unknown key, wrong type, out-of-range option. Exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::Usage; }
};

// An input or data problem: missing, truncated or corrupt file, non-writable directory. Exit 3.
class DataError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::Data; }
};

// A broken internal invariant: a bug in lmlab, not in the input. Exit code 1.
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace lmlab

// LMLAB_CHECK(cond, ErrorType, message parts...): throw ErrorType(message) when cond is false.
#define LMLAB_CHECK(cond, ErrorType, ...)                          \
  do {                                                             \
    if (!(cond)) throw ErrorType(::lmlab::detail::concat(__VA_ARGS__)); \
  } while (0)

// LMLAB_ASSERT(cond, message parts...): an internal invariant; failure is an lmlab bug.
#define LMLAB_ASSERT(cond, ...)                                                      \
  do {                                                                               \
    if (!(cond))                                                                     \
      throw ::lmlab::InternalError(::lmlab::detail::concat(                          \
          "internal error at ", __FILE__, ":", __LINE__, ": ", #cond, " failed: ", __VA_ARGS__)); \
  } while (0)
