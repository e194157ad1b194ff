// Model weights on disk (include/lmlab/models/weights.h).
#include "lmlab/models/weights.h"

#include <sstream>
#include <utility>
#include <vector>

#include "core/files.h"
#include "lmlab/core/archive.h"
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
    // A float file loads into a double model, but integer and bool tensors (packed weights,
    // counters) keep their exact type: a conversion would truncate, or be undefined for NaN.
    const auto want = item.value().scalar_type();
    LMLAB_CHECK(at::isFloatingType(want) ? t.is_floating_point() : t.scalar_type() == want, DataError,
                "weights file '", path, "': ", what, " '", item.key(), "' is ", t.dtype(), " but the model's is ",
                item.value().dtype(), "; the file was saved from a different model");
    LMLAB_CHECK(!t.is_floating_point() || torch::isfinite(t).all().item<bool>(), DataError, "weights file '", path,
                "': ", what, " '", item.key(), "' holds NaN or Inf; the model diverged before it was saved, or the ",
                "file is corrupt");
    copies.emplace_back(item.value(), t);
  }
}
// The kind of `archive` after checking its format version.
std::string checked_kind(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue version, stored_kind;
  LMLAB_CHECK(archive.try_read("format_version", version) && version.isInt(), DataError,
              "weights file '", path, "' has no format version; it was not written by lmlab::save_weights");
  LMLAB_CHECK(version.toInt() == kWeightsFormatVersion, DataError, "weights file '", path,
              "' has format version ", version.toInt(), " but this lmlab reads version ",
              kWeightsFormatVersion, "; re-save the weights with a matching lmlab");
  LMLAB_CHECK(archive.try_read("kind", stored_kind) && stored_kind.isString(), DataError,
              "weights file '", path, "' names no model kind; it was not written by lmlab::save_weights");
  return stored_kind.toStringRef();
}

constexpr const char* kFix = "save the model again";

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
  torch::serialize::InputArchive archive;
  read_archive_file(archive, path, "weights file '" + path + "'", kFix);
  LMLAB_CHECK(checked_kind(archive, path) == kind, DataError, "weights file '", path, "' holds a '",
              checked_kind(archive, path), "' model, not a '", kind, "' model");
  Copies copies;  // everything is checked before anything is copied: a failed load changes nothing
  read_group(archive, "parameters", module.named_parameters(), path, copies);
  read_group(archive, "buffers", module.named_buffers(), path, copies);
  torch::NoGradGuard no_grad;
  for (auto& [to, from] : copies) to.copy_(from);
}

std::string stored_weights_kind(const std::string& path) {
  torch::serialize::InputArchive archive;
  read_archive_file(archive, path, "weights file '" + path + "'", kFix);
  return checked_kind(archive, path);
}

std::map<std::string, int64_t> kind_fields(const std::string& kind, const std::string& prefix,
                                           const std::vector<std::string>& required, const std::string& path,
                                           const std::string& model) {
  LMLAB_CHECK(kind.rfind(prefix, 0) == 0, DataError, "'", path, "' holds a '", kind, "' model, not ", model,
              " (kind '", prefix, "...')");
  std::map<std::string, int64_t> fields;
  std::istringstream in(kind.substr(prefix.size()));
  std::string item;
  while (in >> item) {
    const auto eq = item.find('=');
    size_t used = 0;
    try {
      if (eq != std::string::npos) fields[item.substr(0, eq)] = std::stoll(item.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    LMLAB_CHECK(eq != std::string::npos && used > 0 && eq + 1 + used == item.size(), DataError, "'", path,
                "': malformed field '", item, "' in the model description '", kind, "'");
  }
  for (const auto& key : required)
    LMLAB_CHECK(fields.count(key), DataError, "'", path, "': the model description '", kind, "' lacks ", key);
  return fields;
}

}  // namespace lmlab
