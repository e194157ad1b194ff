// Runs every fuzz target (fuzz_target.h) on every input checked in under tests/fuzz/corpus/<name>/
// and tests/fuzz/crashes/<name>/: the corpora `make fuzz` grew, and each crash it ever found.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_target.h"
#include "test_paths.h"

namespace fs = std::filesystem;

TEST(Fuzz, EveryTargetHasACorpus) {
  for (const char* name : {"checkpoint", "config", "fortunes", "idx", "packed", "points", "pyargs"}) {
    ASSERT_TRUE(lmlab::fuzz::targets().count(name)) << name;
    const fs::path corpus = fs::path(LMLAB_SOURCE_DIR) / "tests/fuzz/corpus" / name;
    ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
    EXPECT_FALSE(fs::is_empty(corpus)) << corpus;
  }
}

TEST(Fuzz, CheckedInInputsReplayWithoutAFinding) {
  int inputs = 0;
  for (const auto& [name, target] : lmlab::fuzz::targets()) {
    for (const char* kind : {"corpus", "crashes"}) {
      const fs::path dir = fs::path(LMLAB_SOURCE_DIR) / "tests/fuzz" / kind / name;
      if (!fs::is_directory(dir)) continue;
      for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_NO_THROW(target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) << entry.path();
        ++inputs;
      }
    }
  }
  std::printf("%d inputs replayed\n", inputs);
}

// The valid inputs each target's seeds are made of, as lmlab writes them today: no finding on any.
// LMLAB_FUZZ_WRITE_SEEDS=1 also writes them into tests/fuzz/corpus/<name>/seed_<i>.
TEST(Fuzz, SeedsLmlabWritesReplayWithoutAFinding) {
  for (const auto& [name, seeds] : lmlab::fuzz::seed_writers()) {
    ASSERT_TRUE(lmlab::fuzz::targets().count(name)) << name;
    for (const std::string& bytes : seeds())
      EXPECT_NO_THROW(lmlab::fuzz::targets()[name](reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())) << name;
    lmlab::fuzz::write_seeds_if_asked(name, seeds);
  }
}
