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

namespace lmlab::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);

inline std::map<std::string, Target>& targets() {
  static std::map<std::string, Target> all;
  return all;
}

struct Registration {
  Registration(const char* name, Target target) { targets()[name] = target; }
};

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
