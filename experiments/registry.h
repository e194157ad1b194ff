// The experiments the CLI knows. Each lives in experiments/<area>/<name>.cpp with its default
// config experiments/<area>/<name>.toml (compiled in), defines itself with one
// LMLAB_DEFINE_EXPERIMENT line, and is listed, one line, in experiments/registry.def (which gives
// the `lmlab list` and `lmlab reproduce` order).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lmlab/core/runner.h"

namespace lmlab {

// What `lmlab list` and summary.json say of an experiment, with named options.
class ExperimentInfo {
 public:
  ExperimentInfo(std::string paper, std::string description)
      : paper_(std::move(paper)), description_(std::move(description)) {}
  // Made of resumable sweep points (ctx.sweep_point), so --resume applies.
  ExperimentInfo& sweep() { sweep_ = true; return *this; }
  // Take the default config of another experiment ("area.name") instead of its own .toml.
  ExperimentInfo& config_of(std::string name) { config_of_ = std::move(name); return *this; }
  // Append a shared config section, experiments/common/<name>.toml (e.g. "optim"), to the defaults.
  ExperimentInfo& section(std::string name) { sections_.push_back(std::move(name)); return *this; }
  // The wall time of --quick on one thread, in seconds, as measured (docs/foundation.md): `lmlab
  // reproduce` starts the longest first, so that no long run is left for the end.
  ExperimentInfo& quick_seconds(double s) { quick_seconds_ = s; return *this; }
  // Reuses work of experiment "area.name" (a model it caches): `lmlab reproduce` runs both in one
  // process, that one first, so the work is done once. Experiments that share a config
  // (config_of) share a process without this.
  ExperimentInfo& reuses(std::string name) { reuses_ = std::move(name); return *this; }

  const std::string& paper() const { return paper_; }
  const std::string& description() const { return description_; }
  bool is_sweep() const { return sweep_; }
  const std::string& config_name() const { return config_of_; }
  const std::vector<std::string>& sections() const { return sections_; }
  double quick_seconds() const { return quick_seconds_; }
  const std::string& reused() const { return reuses_; }

 private:
  std::string paper_, description_, config_of_, reuses_;
  std::vector<std::string> sections_;
  bool sweep_ = false;
  double quick_seconds_ = 0;
};

// The ExperimentDef of "area.name" with its embedded default config; InternalError when the
// .toml it names was not compiled in.
ExperimentDef define_experiment(const std::string& name, std::function<void(RunContext&)> body,
                                const ExperimentInfo& info);

// In experiments/<area>/<name>.cpp, inside namespace lmlab:
//   LMLAB_DEFINE_EXPERIMENT(area, name, run, ExperimentInfo("P1 ...", "one line").sweep())
// defines area_name_experiment(), which registry.def lists.
#define LMLAB_DEFINE_EXPERIMENT(area, name, body, info)                  \
  ExperimentDef area##_##name##_experiment() {                           \
    return ::lmlab::define_experiment(#area "." #name, body, info);      \
  }

// The text of experiments/<area>/<name>.toml for "area.name" (compiled in by CMake), or nullptr.
const char* embedded_config(const char* name);

const std::vector<ExperimentDef>& all_experiments();
// UsageError listing the known names when `name` is unknown.
const ExperimentDef& find_experiment(const std::string& name);

}  // namespace lmlab
