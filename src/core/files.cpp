// File helpers for run directories (src/core/files.h).
#include "core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmlab/core/error.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {
// Writes all of `data` to `fd`; false on error (errno set).
bool write_all(int fd, const std::string& data) {
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
  const bool ok = write_all(fd, line + "\n");  // one write: a line is never interleaved or torn
  const int saved = errno;
  ::close(fd);
  LMLAB_CHECK(ok, DataError, "cannot append to '", path, "': ", std::strerror(saved));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LMLAB_CHECK(in, DataError, "cannot read '", path, "': ", std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool file_exists(const std::string& path) { return fs::exists(path); }

}  // namespace lmlab
