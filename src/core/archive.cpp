// Reading back LibTorch archives (include/lmlab/core/archive.h).
#include "lmlab/core/archive.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/archive_check.h"
#include "core/files.h"
#include "lmlab/core/error.h"

namespace lmlab {

namespace {

// The first line of an exception's message: LibTorch appends backtraces and source excerpts.
std::string first_line(const char* message) {
  const std::string m = message;
  return m.substr(0, m.find('\n'));
}

// archive.load_from(source) with every LibTorch failure as a DataError.
template <typename Source>
void load_checked(torch::serialize::InputArchive& archive, Source&& source, const std::string& what,
                  const std::string& fix) {
  try {
    archive.load_from(std::forward<Source>(source));
  } catch (const c10::Error& e) {
    throw DataError(what + " is not a readable LibTorch archive (" + first_line(e.what_without_backtrace()) +
                    "); it is corrupt or not a file lmlab wrote: " + fix);
  } catch (const std::exception& e) {  // TorchScript's ErrorReport, std::bad_alloc, ...
    throw DataError(what + " is not a readable LibTorch archive (" + first_line(e.what()) +
                    "); it is corrupt or not a file lmlab wrote: " + fix);
  }
}

}  // namespace

void check_archive_container(const std::string& bytes, const std::string& what, const std::string& fix) {
  LMLAB_CHECK(bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04", 4) == 0, DataError, what,
              " is corrupt or not a LibTorch archive (those are zip files; it ",
              bytes.empty() ? "is empty" : "starts with other bytes", "): ", fix);
}

void read_archive_bytes(torch::serialize::InputArchive& archive, const std::string& bytes, const std::string& what,
                        const std::string& fix) {
  check_archive_container(bytes, what, fix);
  check_archive_contents([&bytes](uint64_t offset, size_t n) { return bytes.substr(offset, n); }, bytes.size(),
                         what, fix);
  std::istringstream in(bytes);
  load_checked(archive, in, what, fix);
}

void read_archive_file(torch::serialize::InputArchive& archive, const std::string& path, const std::string& what,
                       const std::string& fix) {
  LMLAB_CHECK(file_exists(path), DataError, what, " does not exist; check the path");
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  in.read(head, sizeof head);
  LMLAB_CHECK(!in.bad(), DataError, what, " cannot be read; check its permissions");
  check_archive_container(std::string(head, static_cast<size_t>(in.gcount())), what, fix);
  in.clear();
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  check_archive_contents(
      [&in](uint64_t offset, size_t n) {
        std::string out(n, '\0');
        in.clear();
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(out.data(), static_cast<std::streamsize>(n));
        out.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
        return out;
      },
      size, what, fix);
  load_checked(archive, path, what, fix);
}

double read_archive_number(torch::serialize::InputArchive& archive, const std::string& key, const std::string& what) {
  torch::Tensor t;
  LMLAB_CHECK(archive.try_read(key, t), DataError, what, " lacks '", key, "'; it was not saved by this lmlab");
  LMLAB_CHECK(t.numel() == 1 && !t.is_complex(), DataError, what, ": '", key,
              "' should be one number but holds ", t.numel(), " values of ", t.dtype(),
              "; it was not saved by this lmlab");
  const double v = t.to(torch::kDouble).item<double>();
  LMLAB_CHECK(std::isfinite(v), DataError, what, ": '", key, "' is ", v, "; the state is corrupt");
  return v;
}

int64_t read_archive_count(torch::serialize::InputArchive& archive, const std::string& key, const std::string& what) {
  const double v = read_archive_number(archive, key, what);
  LMLAB_CHECK(v >= 0 && v <= 9.007199254740992e15 && v == std::floor(v), DataError, what, ": '", key, "' is ", v,
              " but should be a count (an integer >= 0); the state is corrupt");
  return static_cast<int64_t>(v);
}

torch::Tensor read_archive_tensor_like(torch::serialize::InputArchive& archive, const std::string& key,
                                       const torch::Tensor& like, const std::string& what) {
  torch::Tensor t;
  LMLAB_CHECK(archive.try_read(key, t), DataError, what, " lacks '", key, "'; it was not saved by this lmlab");
  LMLAB_CHECK(t.sizes() == like.sizes() && t.is_floating_point(), DataError, what, ": '", key, "' is ", t.dtype(),
              " ", t.sizes(), " but should be floating point ", like.sizes(),
              "; it was saved for other parameters");
  LMLAB_CHECK(torch::isfinite(t).all().item<bool>(), DataError, what, ": '", key,
              "' holds NaN or Inf; the state is corrupt");
  return t.to(like.dtype()).clone();
}

}  // namespace lmlab
