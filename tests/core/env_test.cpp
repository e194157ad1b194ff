// set_threads and environment_info: the thread counts a run records are the ones in effect.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include <ATen/Parallel.h>

#include <torch/torch.h>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

using namespace lmlab;

namespace {
std::map<std::string, std::string> info() {
  const auto pairs = environment_info();
  return {pairs.begin(), pairs.end()};
}
}  // namespace

// at::parallel_for is inline; it splits work only in code built with OpenMP (ATen/ParallelOpenMP.h),
// which lmlab_lib passes on to everything linking it. Without it lmlab's parallel loops run serially.
TEST(Env, ParallelForInLmlabCodeUsesTheThreadsSet) {
  const int before = at::get_num_threads();
  set_threads(2);
  std::mutex mutex;
  std::set<int> workers;
  at::parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    const std::lock_guard<std::mutex> lock(mutex);
    workers.insert(at::get_thread_num());
  });
  set_threads(before);
  EXPECT_EQ(workers, (std::set<int>{0, 1}));
}

TEST(Env, SetThreadsAppliesToLibTorchAndOpenBLAS) {
  const int before = at::get_num_threads();
  for (int n : {1, 2}) {
    EXPECT_EQ(set_threads(n), n);
    EXPECT_EQ(at::get_num_threads(), n);
    const auto env = info();
    EXPECT_EQ(env.at("threads"), std::to_string(n));
    // Debian's libtorch links the BLAS chosen by alternatives; lmlab's deps install OpenBLAS.
    if (env.at("blas").find("openblas") != std::string::npos) {
      EXPECT_EQ(env.at("blas_threads"), std::to_string(n));
    }
  }
  set_threads(before);
}

TEST(Env, SetThreadsRejectsZero) { EXPECT_THROW(set_threads(0), UsageError); }

TEST(Memory, AmountsParseInBinaryUnitsAndNonsenseIsRefused) {
  EXPECT_EQ(parse_bytes("16G"), uint64_t{16} << 30);
  EXPECT_EQ(parse_bytes("512m"), uint64_t{512} << 20);
  EXPECT_EQ(parse_bytes("64KiB"), uint64_t{64} << 10);
  EXPECT_EQ(parse_bytes("1.5GB"), uint64_t{3} << 29);
  EXPECT_EQ(parse_bytes("1000"), 1000u);
  for (const char* bad : {"", "abc", "-1G", "0", "16X", "16GG", "nan", "1e30"})
    EXPECT_THROW(parse_bytes(bad), UsageError) << bad;
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(1.5 * (1 << 30)), "1.5 GiB");
}

TEST(Memory, CheckRefusesWhatTheLimitDoesNotHoldAndNamesBoth) {
  const uint64_t by_default = memory_limit();
  EXPECT_GT(by_default, uint64_t{1} << 20) << "the default is 80% of physical memory";
  set_memory_limit(uint64_t{1} << 30);
  EXPECT_NO_THROW(check_memory("a model", 1e9, "lower it"));
  try {
    check_memory("a model", 3.0 * (1 << 30), "lower model.width");
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    for (const char* part :
         {"a model would need about 3 GiB", "more than the 1 GiB", "--max-memory", "lower model.width"})
      EXPECT_NE(what.find(part), std::string::npos) << what;
  }
  set_memory_limit(0);
  EXPECT_EQ(memory_limit(), by_default) << "0 restores the default";
}
