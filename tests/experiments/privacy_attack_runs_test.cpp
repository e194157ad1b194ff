// The privacy attack experiments (experiments/privacy/): the shared range checks, and every config
// value checked before any work: a bad value ends `lmlab run` with exit 2 and a message naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "lmlab/core/error.h"
#include "privacy/attack_runs.h"
#include "support/usage_error.h"
#include "support/cli.h"

namespace lmlab {
namespace {

TEST(PrivacyAttackRuns, RangeChecksNameTheKey) {
  const Config cfg = Config::from_toml("a = 0\nb = 3\nr = -1.0\nz = 0.0\n[dlg]\niterations = 0\ninner_iterations = 1\n"
                                       "history = 1\nlr = 1.0\n", "test");
  EXPECT_MENTIONS(test_support::usage_error([&] { check_int_range(cfg, {"b", "a"}, 10); }), "a must be in [1, 10]");
  EXPECT_MENTIONS(test_support::usage_error([&] { check_int_range(cfg, {"b"}, 2); }), "b must be in [1, 2]; got 3");
  EXPECT_MENTIONS(test_support::usage_error([&] { check_positive(cfg, {"r"}); }), "r must be finite and > 0");
  check_positive(cfg, {"z"}, /*allow_zero=*/true);
  EXPECT_MENTIONS(test_support::usage_error([&] { dlg_options(cfg); }), "DLG iterations");
  const auto t = torch::rand({2, 3});
  EXPECT_TRUE(torch::equal(tensor_from_values(tensor_values(t), {2, 3}), t));
}

// `lmlab run ARGS` in a fresh directory: exit code and output.
std::pair<int, std::string> lmlab_run(const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path() / ("lmlab_privacy_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto r = test_support::run_cli("run " + args, dir.string());
  std::filesystem::remove_all(dir);
  return {r.code, r.output};
}

TEST(PrivacyAttackRuns, BadConfigValuesExitWithUsageError) {
  const std::pair<const char*, const char*> cases[] = {
      {"privacy.dlg_vision --quick --set 'batch_sizes=[1, 9]'", "batch_sizes entries must be in [1, 8]"},
      {"privacy.dlg_vision --quick --set 'batch_sizes=[2]'", "must hold 1"},
      {"privacy.dlg_vision --quick --set 'methods=[\"dlg\", \"lbfgs\"]'", "unknown method 'lbfgs'"},
      {"privacy.dlg_vision --quick --set ig.lr=0", "Inverting Gradients lr"},
      {"privacy.dlg_vision --quick --set model.patch=5", "model.patch must divide 28"},
      {"privacy.dlg_vision --quick --set model.kind=cnn", "model.kind must be vit or mlp"},
      {"privacy.dlg_text --quick --set 'lengths=[8]'", "must hold 16"},
      {"privacy.dlg_text --quick --set model.tied_head=true", "tied_head must be false"},
      {"privacy.dlg_text --quick --set tag.alpha=-1", "tag.alpha must be finite and >= 0"},
      {"privacy.dlg_text --quick --set 'lengths=[16, 64]'", "lengths entries must be in [1, model.context = 32]"},
  };
  for (const auto& [args, message] : cases) {
    const auto [code, out] = lmlab_run(args);
    EXPECT_EQ(code, 2) << args << "\n" << out;
    EXPECT_MENTIONS(out, message);
  }
}

}  // namespace
}  // namespace lmlab
