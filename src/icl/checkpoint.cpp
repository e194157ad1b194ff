// Checkpoints of the in-context learner (include/lmlab/icl/checkpoint.h).
#include "lmlab/icl/checkpoint.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/models/weights.h"

namespace lmlab::icl {

namespace {
constexpr const char* kKindPrefix = "icl_learner v1 ";

std::string kind_of(const InContextLearnerOptions& options) { return kKindPrefix + options.describe(); }

// The kind string stored in the weights file at `path`.
std::string stored_kind(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  LMLAB_CHECK(f != nullptr, DataError, "learner checkpoint '", path, "' does not exist or cannot be read; ",
              "check the path, or delete learner.checkpoint to train a learner");
  std::fclose(f);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw DataError("learner checkpoint '" + path + "' is not a readable LibTorch archive (" +
                    e.what_without_backtrace() + "); it is corrupt or not a checkpoint: delete it to retrain");
  }
  c10::IValue kind;
  LMLAB_CHECK(archive.try_read("kind", kind) && kind.isString(), DataError, "'", path,
              "' is not an lmlab model file (no kind); it is not an in-context learner checkpoint");
  return kind.toStringRef();
}

// Options from "icl_learner v1 d=.. points=.. ..."; DataError for anything else.
InContextLearnerOptions parse_kind(const std::string& kind, const std::string& path) {
  const std::string prefix = kKindPrefix;
  LMLAB_CHECK(kind.rfind(prefix, 0) == 0, DataError, "'", path, "' holds a '", kind,
              "' model, not an in-context learner (kind 'icl_learner v1 ...')");
  std::map<std::string, int64_t> v;
  std::istringstream in(kind.substr(prefix.size()));
  std::string item;
  while (in >> item) {
    const auto eq = item.find('=');
    LMLAB_CHECK(eq != std::string::npos, DataError, "'", path, "': malformed learner description '", kind, "'");
    try {
      v[item.substr(0, eq)] = std::stoll(item.substr(eq + 1));
    } catch (const std::exception&) {
      throw DataError("'" + path + "': malformed learner description '" + kind + "'");
    }
  }
  for (const char* key : {"d", "points", "layers", "heads", "width", "mlp_ratio"})
    LMLAB_CHECK(v.count(key), DataError, "'", path, "': learner description '", kind, "' lacks ", key);
  auto options = InContextLearnerOptions(v["d"], v["points"]).layers(v["layers"]).heads(v["heads"]).width(v["width"]).mlp_ratio(v["mlp_ratio"]);
  try {
    options.validate();
  } catch (const UsageError& e) {
    throw DataError("'" + path + "': the stored learner description is invalid: " + e.what());
  }
  return options;
}
}  // namespace

void save_learner(const InContextLearner& learner, const std::string& path) {
  save_weights(*learner, path, kind_of(learner->options()));
}

InContextLearner load_learner(const std::string& path) {
  const std::string kind = stored_kind(path);
  InContextLearner learner(parse_kind(kind, path));
  load_weights(*learner, path, kind);
  learner->eval();
  return learner;
}

InContextLearner load_learner(const std::string& path, const InContextLearnerOptions& expected) {
  auto learner = load_learner(path);
  const auto& got = learner->options();
  LMLAB_CHECK(got.dim() == expected.dim() && got.points() == expected.points(), UsageError, "learner checkpoint '",
              path, "' holds a learner for d = ", got.dim(), " and ", got.points(), " points, but the config asks for d = ",
              expected.dim(), " and ", expected.points(), " points; set them to the checkpoint's or use another checkpoint");
  return learner;
}

std::string checkpoint_path(const std::string& dir, const std::string& key) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (const unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return dir + "/" + hex + ".pt";
}

}  // namespace lmlab::icl
