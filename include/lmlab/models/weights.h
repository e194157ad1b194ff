// Model weights on disk: a LibTorch archive (torch::serialize::OutputArchive) holding
//   format_version  int     (kWeightsFormatVersion)
//   kind            string  (what the caller says the model is: "gpt", "vit", "mlp", ...)
//   parameters/<name>, buffers/<name>  one tensor per entry of named_parameters()/named_buffers()
// Loading is strict: same version, same kind, the same set of names and every shape equal; any
// difference is a DataError naming the path and the first offending tensor, and leaves the module
// unchanged. Tensors are copied into the module's own (so a float file loads into a double model).
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace lmlab {

constexpr int64_t kWeightsFormatVersion = 1;

// Writes atomically (a temporary file in the same directory, then rename). DataError on failure.
void save_weights(const torch::nn::Module& module, const std::string& path, const std::string& kind);

// DataError if the file is missing, unreadable or corrupt, or does not match the module.
void load_weights(torch::nn::Module& module, const std::string& path, const std::string& kind);

}  // namespace lmlab
