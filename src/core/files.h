// Private header (not part of the public API): file helpers for run directories. Every error is a
// DataError naming the path and the system's reason.
#pragma once

#include <string>

namespace lmlab {

// Creates `dir` and its parents; DataError if that fails or `dir` is not writable.
void make_directories(const std::string& dir);
// Writes `content` to `path` through a temporary file in the same directory, then renames it, so
// readers see the old file or the new one, never a partial one.
void write_file_atomic(const std::string& path, const std::string& content);
// Appends one line (a '\n' is added) and flushes it to the file.
void append_line(const std::string& path, const std::string& line);
// The whole file; DataError if it cannot be read.
std::string read_file(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace lmlab
