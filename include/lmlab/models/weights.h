// Model weights on disk: a LibTorch archive (torch::serialize::OutputArchive) holding
//   format_version  int     (kWeightsFormatVersion)
//   kind            string  (what the caller says the model is: "gpt", "vit", "mlp", ...)
//   parameters/<name>, buffers/<name>  one tensor per entry of named_parameters()/named_buffers()
// Loading is strict: same version, same kind, the same set of names and every shape equal, integer
// tensors of the same dtype, no NaN or Inf; any difference is a DataError naming the path and the
// first offending tensor, and leaves the module unchanged. Floating tensors are copied into the
// module's own (so a float file loads into a double model).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab {

constexpr int64_t kWeightsFormatVersion = 1;

// Writes atomically (a temporary file in the same directory, then rename). DataError on failure.
void save_weights(const torch::nn::Module& module, const std::string& path, const std::string& kind);

// DataError if the file is missing, unreadable or corrupt, or does not match the module.
void load_weights(torch::nn::Module& module, const std::string& path, const std::string& kind);

// The kind stored in the weights file at `path` (to rebuild the model it describes before
// load_weights); DataError when the file is missing, corrupt, of another version or names no kind.
std::string stored_weights_kind(const std::string& path);

// The integer fields of a kind that describes an architecture, "<prefix>key=value key=value ...",
// such as "icl_learner v1 d=5 points=11": DataError naming `path` when the kind does not start
// with `prefix` (it holds another kind of model: `model` names the expected one), a field is not
// key=<integer>, or one of `required` is missing.
std::map<std::string, int64_t> kind_fields(const std::string& kind, const std::string& prefix,
                                           const std::vector<std::string>& required, const std::string& path,
                                           const std::string& model);

}  // namespace lmlab
