// What every fuzz target shares (fuzz_target.h).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "fuzz_target.h"
#include "lmlab/core/env.h"
#ifndef LMLAB_LIBFUZZER
#include "test_paths.h"  // LMLAB_SOURCE_DIR
#endif

namespace lmlab::fuzz {
namespace {

// lmlab's own memory checks (check_memory, lmlab/core/env.h) refuse above 1 GiB, inside
// libFuzzer's 2 GiB RSS limit: an input asking for more must meet that clear error, and any
// allocation past the limit that no check refused is a finding.
const bool kMemoryLimitSet = (set_memory_limit(uint64_t{1} << 30), true);

}  // namespace

void property_broken(const std::string& what) {
#ifdef LMLAB_LIBFUZZER
  std::fprintf(stderr, "property broken: %s\n", what.c_str());
  std::abort();
#else
  throw std::logic_error("property broken: " + what);
#endif
}

void write_seeds_if_asked(const std::string& name, Seeds seeds) {
  if (std::getenv("LMLAB_FUZZ_WRITE_SEEDS") == nullptr) return;
#ifdef LMLAB_SOURCE_DIR
  const std::filesystem::path root = LMLAB_SOURCE_DIR;
#else
  const std::filesystem::path root = std::filesystem::current_path();
#endif
  const auto dir = root / "tests/fuzz/corpus" / name;
  std::filesystem::create_directories(dir);
  const auto all = seeds();
  for (size_t i = 0; i < all.size(); ++i)
    std::ofstream(dir / ("seed_" + std::to_string(i)), std::ios::binary) << all[i];
  std::fprintf(stderr, "%zu seeds written to %s\n", all.size(), dir.c_str());
}

}  // namespace lmlab::fuzz
