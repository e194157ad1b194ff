// IDX reader (include/lmlab/data/idx.h): header, exact data length and gzip integrity checks.
//
// zlib verifies the gzip trailer (CRC-32 and length) only when the stream is read to its end, so
// after the data the reader always asks for one more byte: that both detects trailing bytes and
// makes a damaged stream surface as an error instead of silently wrong pixels. (zlib itself
// ignores non-gzip bytes after the end of a gzip stream; those cannot be detected here.)
#include "lmlab/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int64_t kMaxDataBytes = int64_t{1} << 40;  // far above any IDX file; guards overflow
// Deflate expands at most about 1032:1, so a file of n bytes holds at most this many times n data
// bytes: a header promising more is refused before anything is allocated.
constexpr int64_t kMaxExpansion = 1032;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError(
      detail::concat("IDX file '", path, "': ", problem,
                     ". The file is damaged or not an IDX file; restore it (for Fashion-MNIST: "
                     "sudo apt-get install --reinstall dataset-fashion-mnist)"));
}

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail(path, "file not found");
    const uintmax_t bytes = std::filesystem::file_size(path, ec);
    if (ec) fail(path, detail::concat("cannot read its size (", ec.message(), ")"));
    file_bytes_ = static_cast<int64_t>(bytes);
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) fail(path, detail::concat("cannot open (", std::strerror(errno), ")"));
  }
  ~GzReader() { gzclose(file_); }
  int64_t file_bytes() const { return file_bytes_; }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `n` bytes into `dst`; returns how many there were. DataError on a corrupt or
  // prematurely ending gzip stream.
  int64_t read(void* dst, int64_t n) {
    int64_t got = 0;
    while (got < n) {
      const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - got, int64_t{1} << 30));
      const int r = gzread(file_, static_cast<char*>(dst) + got, chunk);
      if (r < 0) fail_on_stream_error();
      if (r == 0) break;
      got += r;
    }
    fail_on_stream_error();  // zlib reports a cut-off gzip stream as a short read plus an error
    return got;
  }

 private:
  void fail_on_stream_error() {
    int err = Z_OK;
    const char* message = gzerror(file_, &err);
    if (err == Z_BUF_ERROR) fail(path_, "gzip stream ends early (file truncated)");
    if (err != Z_OK) fail(path_, detail::concat("corrupt gzip stream (zlib: ", message, ")"));
  }

  std::string path_;
  gzFile file_ = nullptr;
  int64_t file_bytes_ = 0;
};

uint32_t big_endian_u32(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace

torch::Tensor read_idx(const std::string& path, int32_t expected_magic) {
  GzReader in(path);

  unsigned char head[4];
  if (in.read(head, 4) < 4) fail(path, "file shorter than the 4-byte IDX magic number");
  const auto magic = static_cast<int32_t>(big_endian_u32(head));
  const int ndims = head[3];
  if (expected_magic != 0 && magic != expected_magic) {
    fail(path, detail::concat("bad magic number ", magic, ", expected ", expected_magic,
                              " (unsigned bytes, ", expected_magic & 0xff, " dimensions)"));
  }
  if (head[0] != 0 || head[1] != 0 || head[2] != kUnsignedByteType || ndims < 1 || ndims > 4) {
    fail(path, detail::concat("bad magic number ", magic,
                              ", expected an unsigned-byte IDX file with 1 to 4 dimensions"));
  }

  unsigned char raw_sizes[16];
  if (in.read(raw_sizes, 4 * ndims) < 4 * ndims) fail(path, "header truncated in its sizes");
  std::vector<int64_t> sizes;
  int64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    sizes.push_back(big_endian_u32(raw_sizes + 4 * i));
    if (sizes.back() != 0 && total > kMaxDataBytes / sizes.back()) {
      fail(path, "header promises an implausibly large tensor");
    }
    total *= sizes.back();
  }
  if (total > kMaxExpansion * in.file_bytes()) {
    fail(path, detail::concat("header promises ", total, " data bytes, more than a file of ", in.file_bytes(),
                              " bytes can hold even compressed"));
  }

  // The bytes and the float32 copy every experiment makes of them.
  check_memory("reading " + path + " (" + std::to_string(total) + " bytes, then as float32)", 5.0 * double(total),
               "pass a smaller file or raise --max-memory");
  torch::Tensor data = torch::empty(sizes, torch::kUInt8);
  const int64_t got = in.read(data.data_ptr<uint8_t>(), total);
  if (got < total) {
    fail(path, detail::concat("truncated: the header promises ", total,
                              " data bytes, the file holds ", got));
  }
  unsigned char extra;
  if (in.read(&extra, 1) > 0) {
    fail(path,
         detail::concat("trailing bytes after the ", total, " data bytes the header promises"));
  }
  return data;
}

}  // namespace lmlab
