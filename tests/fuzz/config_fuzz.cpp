// Config loading as a run does it: the defaults of an experiment, then a user's TOML file (the
// input up to a line "%%"), then one --set value per following line.
#include <sstream>

#include "fuzz_target.h"
#include "lmlab/core/config.h"
#include "lmlab/core/error.h"

namespace {

const char kDefaults[] = R"(dim = 16
noise_std = 0.0
name = "relu"
verbose = false
widths = [2, 8, 32]
rates = [0.5, 1.0]
topics = ["art", "science"]

[train]
steps = 1500
lr = 0.01

[quick]
widths = [2, 8]
train.steps = 600
)";

}  // namespace

LMLAB_FUZZ_TARGET(config) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n%%\n");
  const std::string file = input.substr(0, split);
  try {
    lmlab::Config config = lmlab::Config::from_toml(kDefaults, "defaults");
    config.apply_quick();
    config.merge_toml(file, "fuzz.toml");
    if (split != std::string::npos) {
      std::istringstream sets(input.substr(split + 4));
      for (std::string line; std::getline(sets, line);) config.set(line);
    }
    // What a run writes back must load again, to the same values.
    const lmlab::Config again = lmlab::Config::from_toml(config.to_toml(), "config.toml");
    if (again.to_toml() != config.to_toml()) lmlab::fuzz::property_broken("config.toml does not round-trip");
  } catch (const lmlab::Error&) {
  }
  return 0;
}
