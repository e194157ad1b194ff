// File helpers for run directories (src/core/files.h).
#include "core/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "lmlab/core/error.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

// Fault injection for tests: with LMLAB_FAIL_WRITES_AFTER=N in the environment, every write after
// the first N (calls of write_file_atomic and append_line) writes half its bytes and fails with
// ENOSPC, as on a full disk.
bool inject_disk_full() {
  const char* allowed = std::getenv("LMLAB_FAIL_WRITES_AFTER");
  if (allowed == nullptr || *allowed == '\0') return false;
  static std::atomic<long long> writes{0};
  static std::atomic<pid_t> counting{0};
  if (counting.exchange(::getpid()) != ::getpid()) writes = 0;  // a forked child counts its own writes
  return writes++ >= std::atoll(allowed);
}

// Writes all of `data` to `fd`; false on error (errno set).
bool write_all(int fd, const std::string& data) {
  if (inject_disk_full()) {
    if (::write(fd, data.data(), data.size() / 2) < 0) {
      // the failure below is what is being injected
    }
    errno = ENOSPC;
    return false;
  }
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

void make_directories(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  LMLAB_CHECK(!ec, DataError, "cannot create directory '", dir, "': ", ec.message(),
              ". Choose a writable location (for runs: --out DIR)");
  LMLAB_CHECK(::access(dir.c_str(), W_OK) == 0, DataError, "directory '", dir,
              "' is not writable: ", std::strerror(errno), ". Choose a writable location (for runs: --out DIR)");
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  LMLAB_CHECK(fd >= 0, DataError, "cannot write '", path, "': ", std::strerror(errno));
  const bool ok = write_all(fd, content) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    throw DataError("cannot write '" + path + "': " + why);
  }
}

void append_line(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  LMLAB_CHECK(fd >= 0, DataError, "cannot append to '", path, "': ", std::strerror(errno));
  // One write: lines of concurrent writers never interleave; only a kill or a full disk in the
  // middle of a long line can cut it (a resume drops such a line).
  const bool ok = write_all(fd, line + "\n");
  const int saved = errno;
  ::close(fd);
  LMLAB_CHECK(ok, DataError, "cannot append to '", path, "': ", std::strerror(saved));
}

std::string read_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer; it is then refused as not regular.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  LMLAB_CHECK(fd >= 0, DataError, "cannot read '", path, "': ", std::strerror(errno));
  struct stat st {};
  std::string problem;
  if (::fstat(fd, &st) != 0) problem = std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    problem = "not a regular file (a device, FIFO or directory); lmlab reads only regular files";
  else if (static_cast<uint64_t>(st.st_size) > max_bytes)
    problem = std::to_string(st.st_size) + " bytes, more than the " + std::to_string(max_bytes) +
              " such a file may hold; is it the right file?";
  if (problem.empty()) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // block as usual again
  std::string content;
  while (problem.empty()) {
    char buf[1 << 16];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) problem = std::strerror(errno);
    if (n <= 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes) problem = "it grew past " + std::to_string(max_bytes) + " bytes while being read";
  }
  ::close(fd);
  LMLAB_CHECK(problem.empty(), DataError, "cannot read '", path, "': ", problem);
  return content;
}

bool file_exists(const std::string& path) {
  std::error_code ec;  // a path the system cannot even look up (too long, say) does not exist
  return fs::exists(path, ec);
}

DirectoryLock::DirectoryLock(const std::string& dir)
    : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  LMLAB_CHECK(fd_ >= 0, DataError, "cannot open run directory '", dir, "': ", std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK) {  // a filesystem without such locks (some NFS setups): go on unlocked
    std::fprintf(stderr, "lmlab: note: cannot lock run directory '%s' (%s); run one process on it at a time\n",
                 dir.c_str(), std::strerror(errno));
    return;
  }
  ::close(fd_);
  throw UsageError("another lmlab process is running in '" + dir +
                   "'; wait for it to finish (or stop it) before resuming this run");
}

DirectoryLock::~DirectoryLock() { ::close(fd_); }

}  // namespace lmlab
