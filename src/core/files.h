// Private header (not part of the public API): file helpers for run directories. Every error is a
// DataError naming the path and the system's reason.
#pragma once

#include <string>

namespace lmlab {

// Creates `dir` and its parents; DataError if that fails or `dir` is not writable.
void make_directories(const std::string& dir);
// Writes `content` to `path` through a temporary file in the same directory (`path`.tmp.<pid>),
// then renames it, so readers see the old file or the new one, never a partial one.
void write_file_atomic(const std::string& path, const std::string& content);
// Appends one line (a '\n' is added) and flushes it to the file. For tests, both writers obey
// LMLAB_FAIL_WRITES_AFTER=N: the writes after the first N write half their bytes and fail with
// ENOSPC, as on a full disk.
void append_line(const std::string& path, const std::string& line);
// The largest file read_file reads unless told otherwise: far above any run file lmlab writes.
constexpr size_t kMaxReadBytes = size_t{256} << 20;

// The whole file; DataError if it cannot be read, is not a regular file (a device, FIFO or
// directory, also behind a symlink: none is read or waited on) or is larger than `max_bytes`.
std::string read_file(const std::string& path, size_t max_bytes = kMaxReadBytes);
bool file_exists(const std::string& path);

// Holds an exclusive lock on a run directory while it lives (flock; released when the process
// ends, however it ends), so two processes never write one run. UsageError when another holds it.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::string& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_;
};

}  // namespace lmlab
