// Model weights on disk (include/lmlab/models/weights.h).
#include "lmlab/models/weights.h"

#include <sstream>
#include <utility>
#include <vector>

#include "core/files.h"
#include "lmlab/core/error.h"

namespace lmlab {

namespace {
using NamedTensors = torch::OrderedDict<std::string, torch::Tensor>;
using Copies = std::vector<std::pair<torch::Tensor, torch::Tensor>>;  // (model tensor, stored tensor)

// Reads one group ("parameters" or "buffers") of `archive`, checking it strictly against
// `expected`; appends what to copy where to `copies`.
void read_group(torch::serialize::InputArchive& archive, const std::string& group,
                const NamedTensors& expected, const std::string& path, Copies& copies) {
  const bool buffers = group == "buffers";
  const char* what = buffers ? "buffer" : "parameter";
  torch::serialize::InputArchive stored;
  LMLAB_CHECK(archive.try_read(group, stored), DataError, "weights file '", path,
              "' has no '", group, "' section; it was not written by lmlab::save_weights");
  for (const auto& key : stored.keys()) {
    LMLAB_CHECK(expected.contains(key), DataError, "weights file '", path, "' holds ", what, " '",
                key, "' that the model does not have; the file was saved from a different architecture");
  }
  for (const auto& item : expected) {
    torch::Tensor t;
    LMLAB_CHECK(stored.try_read(item.key(), t, buffers), DataError, "weights file '", path,
                "' lacks ", what, " '", item.key(), "' ", item.value().sizes(),
                "; the file was saved from a different architecture");
    LMLAB_CHECK(t.sizes() == item.value().sizes(), DataError, "weights file '", path, "': ", what, " '",
                item.key(), "' has shape ", t.sizes(), " but the model expects ",
                item.value().sizes(), "; build the model with the options it was saved with");
    copies.emplace_back(item.value(), t);
  }
}
}  // namespace

void save_weights(const torch::nn::Module& module, const std::string& path, const std::string& kind) {
  LMLAB_CHECK(!kind.empty(), UsageError, "save_weights needs a model kind (e.g. \"gpt\"); got ''");
  torch::serialize::OutputArchive archive, parameters, buffers;
  archive.write("format_version", c10::IValue(kWeightsFormatVersion));
  archive.write("kind", c10::IValue(kind));
  for (const auto& p : module.named_parameters()) parameters.write(p.key(), p.value().detach());
  for (const auto& b : module.named_buffers()) buffers.write(b.key(), b.value(), /*is_buffer=*/true);
  archive.write("parameters", parameters);
  archive.write("buffers", buffers);
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

void load_weights(torch::nn::Module& module, const std::string& path, const std::string& kind) {
  LMLAB_CHECK(file_exists(path), DataError, "weights file '", path,
              "' does not exist; check the path or save the model first");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw DataError("weights file '" + path + "' is not a readable LibTorch archive (" +
                    e.what_without_backtrace() + "); it is corrupt or not a weights file");
  }
  c10::IValue version, stored_kind;
  LMLAB_CHECK(archive.try_read("format_version", version) && version.isInt(), DataError,
              "weights file '", path, "' has no format version; it was not written by lmlab::save_weights");
  LMLAB_CHECK(version.toInt() == kWeightsFormatVersion, DataError, "weights file '", path,
              "' has format version ", version.toInt(), " but this lmlab reads version ",
              kWeightsFormatVersion, "; re-save the weights with a matching lmlab");
  LMLAB_CHECK(archive.try_read("kind", stored_kind) && stored_kind.isString(), DataError,
              "weights file '", path, "' names no model kind; it was not written by lmlab::save_weights");
  LMLAB_CHECK(stored_kind.toStringRef() == kind, DataError, "weights file '", path, "' holds a '",
              stored_kind.toStringRef(), "' model, not a '", kind, "' model");
  Copies copies;  // everything is checked before anything is copied: a failed load changes nothing
  read_group(archive, "parameters", module.named_parameters(), path, copies);
  read_group(archive, "buffers", module.named_buffers(), path, copies);
  torch::NoGradGuard no_grad;
  for (auto& [to, from] : copies) to.copy_(from);
}

}  // namespace lmlab
