// Private header (not part of the public API): the zip and pickle check behind lmlab/core/archive.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace lmlab {

// Up to n bytes of the input from `offset` (fewer only at its end).
using ReadAt = std::function<std::string(uint64_t offset, size_t n)>;

// DataError naming `what` (and `fix`) when the archive of `size` bytes that `read` reads is not
// what LibTorch writes: see archive_check.cpp.
void check_archive_contents(const ReadAt& read, uint64_t size, const std::string& what, const std::string& fix);

}  // namespace lmlab
