// Test support (not installed): running the lmlab CLI and reading its exit code and output.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "test_paths.h"

namespace lmlab::test_support {

struct CliResult {
  int code;            // the exit status; -1 when the process did not exit normally
  std::string output;  // stdout and stderr together
};

// `ENV lmlab ARGS`, run in `dir` when given (else the current directory).
inline CliResult run_cli(const std::string& args, const std::string& dir = "", const std::string& env = "") {
  const std::string cd = dir.empty() ? "" : "cd '" + dir + "' && ";
  const std::string cmd = cd + env + " " + LMLAB_CLI_PATH + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed: " + cmd};
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A fixture with a fresh temporary directory per test (removed afterwards), where lmlab runs.
class CliTest : public TempDirTest {
 protected:
  // Runs `lmlab ARGS` with `env` prefixed (e.g. "LMLAB_DATA_DIR=/x"), in the temp directory.
  CliResult lmlab(const std::string& args, const std::string& env = "") const { return run_cli(args, dir_.string(), env); }
};

}  // namespace lmlab::test_support
