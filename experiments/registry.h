// The experiments the CLI knows, in `lmlab list` order. Each experiment lives in
// experiments/<area>/<name>.cpp with its default config experiments/<area>/<name>.toml, and is
// added to the table in registry.cpp.
#pragma once

#include <string>
#include <vector>

#include "lmlab/core/runner.h"

namespace lmlab {

// The text of experiments/<area>/<name>.toml for "area.name" (compiled in by CMake), or nullptr.
const char* embedded_config(const char* name);

const std::vector<ExperimentDef>& all_experiments();
// UsageError listing the known names when `name` is unknown.
const ExperimentDef& find_experiment(const std::string& name);

}  // namespace lmlab
