// The experiment table (experiments/registry.h), built from the list in registry.def.
#include "registry.h"

#include "lmlab/core/error.h"
#include "papers.h"

namespace lmlab {

#define LMLAB_EXPERIMENT(area, name) ExperimentDef area##_##name##_experiment();
#include "registry.def"
#undef LMLAB_EXPERIMENT

ExperimentDef define_experiment(const std::string& name, std::function<void(RunContext&)> body,
                                const ExperimentInfo& info) {
  const std::string config = info.config_name().empty() ? name : info.config_name();
  const char* toml = embedded_config(config.c_str());
  LMLAB_ASSERT(toml != nullptr, "experiment ", name, " has no default config ", config,
               " (experiments/<area>/<name>.toml)");
  std::string defaults = toml;
  for (const std::string& section : info.sections()) {
    const char* text = embedded_config(("common." + section).c_str());
    LMLAB_ASSERT(text != nullptr, "experiment ", name, " asks for config section experiments/common/", section,
                 ".toml, which was not compiled in");
    defaults += text;
  }
  return {name, info.paper(), paper_title(info.paper()), info.description(), defaults, info.is_sweep(),
          info.quick_seconds(), std::move(body), info.reused().empty() ? config : info.reused()};
}

const std::vector<ExperimentDef>& all_experiments() {
  static const std::vector<ExperimentDef> table = {
#define LMLAB_EXPERIMENT(area, name) area##_##name##_experiment(),
#include "registry.def"
#undef LMLAB_EXPERIMENT
  };
  return table;
}

const ExperimentDef& find_experiment(const std::string& name) {
  std::string names;
  for (const ExperimentDef& def : all_experiments()) {
    if (def.name == name) return def;
    names += "  " + def.name + "\n";
  }
  throw UsageError("unknown experiment '" + name + "'. Known experiments (lmlab list):\n" + names);
}

}  // namespace lmlab
