// `lmlab dp-epsilon` and `lmlab dp-sigma` as a user meets them, and the privacy experiment's config
// checks: published values printed, exit 2 with a message naming the bad value. Runs the real
// binary (built with the tests by `ninja -C build`; skipped when absent).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support/cli.h"

namespace {

using Result = lmlab::test_support::CliResult;

Result lmlab(const std::string& args) { return lmlab::test_support::run_cli(args); }

class DpCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(LMLAB_CLI_PATH)) GTEST_SKIP() << "build the lmlab binary first: " << LMLAB_CLI_PATH;
  }
};

TEST_F(DpCli, EpsilonAndSigmaPrintThePublishedValues) {
  Result r = lmlab("dp-epsilon --sigma 1.5 --q 0.04 --steps 2250 --delta 1e-5");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("epsilon 7.329111171"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("order 3.9"), std::string::npos) << r.output;
  r = lmlab("dp-sigma --epsilon 8 --q 0.04 --steps 2000 --delta 1e-5");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sigma 1.356"), std::string::npos) << r.output;
}

TEST_F(DpCli, BadInputExitsTwoNamingTheValue) {
  const std::pair<const char*, const char*> cases[] = {
      {"dp-epsilon --sigma 0 --q 0.1 --steps 10 --delta 1e-5", "sigma = 0"},
      {"dp-epsilon --sigma 1 --q 1.5 --steps 10 --delta 1e-5", "q = 1.5"},
      {"dp-epsilon --sigma 1 --q 0 --steps 10 --delta 1e-5", "q = 0"},
      {"dp-epsilon --sigma 1 --q 0.1 --steps 0 --delta 1e-5", "steps = 0"},
      {"dp-epsilon --sigma 1 --q 0.1 --steps 10 --delta 1", "delta = 1"},
      {"dp-sigma --epsilon -1 --q 0.1 --steps 10 --delta 1e-5", "target epsilon = -1"},
      {"dp-sigma --q 0.1 --steps 10 --delta 1e-5", "--epsilon is required"},
      {"run privacy.attention_inversion --quick --out OUT --set restarts=0", "restarts must be >= 1"},
      {"run privacy.attention_inversion --quick --out OUT --set ns=[4]", "no (d, n) pair"},
      {"run privacy.attention_inversion --quick --out OUT --set scale=-1", "scale must be finite and > 0"},
  };
  const auto out = std::filesystem::temp_directory_path() / ("lmlab_dp_cli_" + std::to_string(::getpid()));
  for (const auto& [args, message] : cases) {
    std::string a = args;
    if (const auto at = a.find("OUT"); at != std::string::npos) a.replace(at, 3, out.string());
    const Result r = lmlab(a);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << args << "\n" << r.output;
  }
  std::filesystem::remove_all(out);
}

}  // namespace
