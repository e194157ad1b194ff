// onebit.scaling_law through the CLI: each full run goes on from its learning-rate trial, and gives
// the numbers of a full run from scratch, which a resume with only the trials stored computes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/cli.h"

namespace fs = std::filesystem;

namespace {

using ScalingLawCli = lmlab::test_support::CliTest;

TEST_F(ScalingLawCli, FullRunsContinuedFromTheirTrialsEqualRunsFromScratch) {
  const auto first = lmlab(
      "run onebit.scaling_law --quick --threads 1 --out a --set 'widths=[8,16]' --set 'tokens=[4096,8192,12288]' "
      "--set eval_batches=2 --set 'precisions=[\"fp\",\"binary\"]' --set train.warmup=2");
  ASSERT_EQ(first.code, 0) << first.output;
  const fs::path run = only_run(dir_ / "a" / "onebit.scaling_law");

  // A copy holding only the trials' rows: resuming it computes every full run from scratch.
  const fs::path copy = dir_ / "from_scratch";
  fs::copy(run, copy, fs::copy_options::recursive);
  fs::remove(copy / "summary.json");
  std::ifstream all(run / "points.jsonl");
  std::ofstream trials(copy / "points.jsonl", std::ios::trunc);
  int kept = 0, lines = 0;
  for (std::string line; std::getline(all, line); ++lines)
    if (line.find(",select,") != std::string::npos) trials << line << '\n', ++kept;
  trials.close();
  ASSERT_EQ(lines, 12);  // 2 precisions x 2 widths x (2 lr trials + the full run)
  ASSERT_EQ(kept, 8);

  const auto second = lmlab("run onebit.scaling_law --threads 1 --resume " + copy.string());
  ASSERT_EQ(second.code, 0) << second.output;
  const nlohmann::json a = lmlab::test_support::read_json(run / "summary.json")["results"];
  const nlohmann::json b = lmlab::test_support::read_json(copy / "summary.json")["results"];
  ASSERT_TRUE(a.contains("fp.chinchilla.r2") && a.contains("binary.relative_gap")) << a.dump();
  EXPECT_EQ(a, b);
}

}  // namespace
