// Fuzz targets for the parsers of outside input (docs/reliability.md, "Fuzzing"). Each
// tests/fuzz/<name>_fuzz.cpp defines one target with LMLAB_FUZZ_TARGET(name) { ... }: built by
// `make fuzz` (clang, LMLAB_LIBFUZZER defined) it is a libFuzzer program; built into
// lmlab_fuzz_tests it is registered by name so that replay_test.cpp runs it on every checked-in
// input under tests/fuzz/corpus/<name>/ and tests/fuzz/crashes/<name>/.
//
// A target returns 0. lmlab's own errors (lmlab::Error) are the expected answer to bad input and
// are caught inside the target; anything else (a crash, a sanitizer report, another exception, a
// broken property the target checks) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lmlab::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);

inline std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> all;
  return all;
}

struct Registration {
  Registration(const char* name, Target target) { targets()[name] = target; }
};

// Valid inputs written by lmlab itself (a target's seeds): replay_test.cpp checks that each is
// accepted, and writes them into tests/fuzz/corpus/<name>/ when LMLAB_FUZZ_WRITE_SEEDS is set.
using Seeds = std::vector<std::string> (*)();
inline std::map<std::string, Seeds>& seed_writers() {
  static std::map<std::string, Seeds> all;
  return all;
}
struct SeedRegistration {
  SeedRegistration(const char* name, Seeds seeds) { seed_writers()[name] = seeds; }
};

// With LMLAB_FUZZ_WRITE_SEEDS set: writes the seeds as tests/fuzz/corpus/<name>/seed_<i> (under
// LMLAB_SOURCE_DIR or the working directory).
void write_seeds_if_asked(const std::string& name, Seeds seeds);

// A broken property: reported as a crash by libFuzzer and as a failure by the replay test.
[[noreturn]] void property_broken(const std::string& what);

}  // namespace lmlab::fuzz

#ifdef LMLAB_LIBFUZZER
#define LMLAB_FUZZ_TARGET(name)                                                                       \
  static int lmlab_fuzz_##name(const uint8_t* data, size_t size);                                     \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {                           \
    return lmlab_fuzz_##name(data, size);                                                             \
  }                                                                                                   \
  static int lmlab_fuzz_##name(const uint8_t* data, size_t size)
#else
#define LMLAB_FUZZ_TARGET(name)                                                                       \
  static int lmlab_fuzz_##name(const uint8_t* data, size_t size);                                     \
  static const lmlab::fuzz::Registration lmlab_fuzz_registration_##name(#name, lmlab_fuzz_##name);    \
  static int lmlab_fuzz_##name(const uint8_t* data, size_t size)
#endif

// LMLAB_FUZZ_SEEDS(name) { return {valid input, ...}; }: the target's seeds (not in libFuzzer builds).
#ifdef LMLAB_LIBFUZZER
#define LMLAB_FUZZ_SEEDS(name)                                                                        \
  static std::vector<std::string> lmlab_fuzz_seeds_##name();                                          \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                                                \
    lmlab::fuzz::write_seeds_if_asked(#name, lmlab_fuzz_seeds_##name);                                \
    return 0;                                                                                         \
  }                                                                                                   \
  static std::vector<std::string> lmlab_fuzz_seeds_##name()
#else
#define LMLAB_FUZZ_SEEDS(name)                                                                        \
  static std::vector<std::string> lmlab_fuzz_seeds_##name();                                          \
  static const lmlab::fuzz::SeedRegistration lmlab_fuzz_seed_registration_##name(#name, lmlab_fuzz_seeds_##name); \
  static std::vector<std::string> lmlab_fuzz_seeds_##name()
#endif
