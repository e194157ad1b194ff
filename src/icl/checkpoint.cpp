// Checkpoints of the in-context learner (include/lmlab/icl/checkpoint.h).
#include "lmlab/icl/checkpoint.h"

#include <cstdio>
#include <filesystem>

#include "lmlab/core/error.h"
#include "lmlab/models/weights.h"

namespace lmlab::icl {

namespace {
constexpr const char* kKindPrefix = "icl_learner v1 ";

std::string kind_of(const InContextLearnerOptions& options) { return kKindPrefix + options.describe(); }

// Options from "icl_learner v1 d=.. points=.. ..."; DataError for anything else.
InContextLearnerOptions parse_kind(const std::string& kind, const std::string& path) {
  auto v = kind_fields(kind, kKindPrefix, {"d", "points", "layers", "heads", "width", "mlp_ratio"}, path,
                       "an in-context learner");
  auto options = InContextLearnerOptions(v["d"], v["points"]).layers(v["layers"]).heads(v["heads"]).width(v["width"]).mlp_ratio(v["mlp_ratio"]);
  try {
    options.validate();
  } catch (const UsageError& e) {
    throw DataError("'" + path + "': the stored learner description is invalid: " + e.what());
  }
  // A lower bound on the parameter count (attention and MLP matrices, read-in, positions): the file
  // holds at least a byte per parameter, so a description larger than the file is refused before
  // anything is allocated for it.
  const double w = static_cast<double>(options.width());
  const double parameters = options.layers() * (4.0 + 2.0 * options.mlp_ratio()) * w * w +
                            (options.dim() + 2.0 * options.points()) * w;
  LMLAB_CHECK(parameters <= static_cast<double>(std::filesystem::file_size(path)), DataError, "'", path,
              "' describes a learner of at least ", parameters, " parameters, more than the file holds; it is ",
              "corrupt: delete it to retrain");
  return options;
}
}  // namespace

void save_learner(const InContextLearner& learner, const std::string& path) {
  save_weights(*learner, path, kind_of(learner->options()));
}

InContextLearner load_learner(const std::string& path) {
  const std::string kind = stored_weights_kind(path);
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
