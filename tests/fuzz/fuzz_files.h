// Private header (tests/fuzz only): what the file-loading fuzz targets share.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <c10/util/Exception.h>

#include "fuzz_target.h"
#include "lmlab/core/error.h"

namespace lmlab::fuzz {

// A file of this process's own under the temporary directory, named after `name`.
inline std::string scratch_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("lmlab_" + name + "_fuzz_" + std::to_string(::getpid()))).string();
}

// Writes the input to `path` (replacing it).
inline void write_input(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
}

// Runs `round_trip`, which loads the input (an lmlab::Error there is the expected answer to a bad
// file, caught inside) and then saves and loads again what loaded: an lmlab::Error escaping it
// means what lmlab saved does not load again, a finding, and so is a raw LibTorch error.
template <typename RoundTrip>
void check_round_trip(RoundTrip&& round_trip) {
  try {
    round_trip();
  } catch (const c10::Error& e) {
    property_broken(std::string("a raw LibTorch error escaped: ") + e.what_without_backtrace());
  } catch (const lmlab::Error& e) {
    property_broken(std::string("what lmlab saved does not load again: ") + e.what());
  }
}

}  // namespace lmlab::fuzz
