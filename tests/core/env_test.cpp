// set_threads and environment_info: the thread counts a run records are the ones in effect.
#include <gtest/gtest.h>

#include <map>

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
