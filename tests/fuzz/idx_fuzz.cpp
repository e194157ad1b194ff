// An IDX file (plain or gzip; zlib reads both) as read_idx reads Fashion-MNIST: any header, size or
// stream damage is a DataError, never a crash or an allocation the file cannot back.
#include <filesystem>

#include "fuzz_files.h"
#include "fuzz_target.h"
#include "lmlab/core/error.h"
#include "lmlab/data/idx.h"

LMLAB_FUZZ_TARGET(idx) {
  static const std::string path = lmlab::fuzz::scratch_path("idx");
  lmlab::fuzz::write_input(path, data, size);
  try {
    const torch::Tensor t = lmlab::read_idx(path, 0);
    if (t.scalar_type() != torch::kUInt8 || t.dim() < 1 || t.dim() > 4) lmlab::fuzz::property_broken("bad tensor");
  } catch (const lmlab::Error&) {
  }
  std::filesystem::remove(path);
  return 0;
}
