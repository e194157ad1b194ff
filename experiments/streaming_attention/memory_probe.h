// Private to experiments/streaming_attention/: peak process memory of one measurement, taken honestly in a
// fresh process. ru_maxrss only grows during a process's life, so each point re-executes the lmlab
// binary (posix_spawn of /proc/self/exe, no fork() after OpenMP threads started) as
// `lmlab run NAME --config <this run's config.toml> --set probe.mode=... --seed S --threads T`
// into a temporary directory, reads the child's summary.json results and removes the directory.
#pragma once

#include <string>
#include <vector>

#include "lmlab/core/run.h"

namespace lmlab::streaming {

// True when this process is the lmlab CLI, whose binary the probes re-execute.
bool can_spawn_probes();

// Runs experiment `name` in a child with this run's config, seed and threads plus `sets`
// ("key=value"); returns the child's numeric results. lmlab::Error with the child's log tail when
// the child fails.
Row run_probe(RunContext& ctx, const std::string& name, const std::vector<std::string>& sets);

// This process's peak resident set size so far (getrusage ru_maxrss), in bytes.
double peak_rss_bytes();

}  // namespace lmlab::streaming
