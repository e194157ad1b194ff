// Reading back the LibTorch archives lmlab writes (torch::serialize::OutputArchive: weights files,
// checkpoints, optimizer state). LibTorch's reader answers a foreign, truncated or corrupt file
// with a c10::Error, a TorchScript ErrorReport or a std::exception, and trusts the sizes in the
// zip directory and in the pickles; these readers check the zip directory and walk the pickles
// first (src/core/archive_check.cpp), so that no file asks for more memory than it can back, and
// turn every failure into a DataError (exit 3) that names the file and the fix, so no LibTorch
// trace reaches the user.
//
//   what  names the input in messages ("weights file 'model.pt'", "optimizer state")
//   fix   says what to do about a bad one ("delete it to retrain")
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace lmlab {

// The archive in the file at `path`; DataError when it is missing, unreadable or not an archive.
void read_archive_file(torch::serialize::InputArchive& archive, const std::string& path, const std::string& what,
                       const std::string& fix);
// The archive held in `bytes` (what OutputArchive::save_to wrote to a stream).
void read_archive_bytes(torch::serialize::InputArchive& archive, const std::string& bytes, const std::string& what,
                        const std::string& fix);

// Entry `key` of `archive` as one finite number (a one-element tensor); DataError naming `what`
// and the key when it is missing, holds another number of elements, or is NaN or Inf.
double read_archive_number(torch::serialize::InputArchive& archive, const std::string& key, const std::string& what);
// The same for a count: an integer >= 0.
int64_t read_archive_count(torch::serialize::InputArchive& archive, const std::string& key, const std::string& what);
// Entry `key` stored in the place of `like`: the same shape, floating point and finite; returned
// with `like`'s dtype. DataError naming `what` and the key otherwise.
torch::Tensor read_archive_tensor_like(torch::serialize::InputArchive& archive, const std::string& key,
                                       const torch::Tensor& like, const std::string& what);

// DataError naming `what` unless `bytes` start like a zip file, as every LibTorch archive does (a
// clear message for a foreign file, before LibTorch's reader sees it).
void check_archive_container(const std::string& bytes, const std::string& what, const std::string& fix);

}  // namespace lmlab
