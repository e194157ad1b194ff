// Private to bench/: the main() every benchmark binary shares.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include "lmlab/core/env.h"

namespace lmlab {

// Sets the passive OpenMP wait policy and keeps freed memory as the CLI does (bench/run.sh gives
// the peer the same settings), parses the
// Google Benchmark flags, runs `check` (exit 1 with its message if it throws: nothing is timed
// unchecked), then `register_cases`, records lmlab's environment in the JSON context and runs.
inline int run_benchmarks(int argc, char** argv, const char* name, const std::function<void()>& check,
                          const std::function<void()>& register_cases = {}) {
  use_passive_omp_wait(argv);
  keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  try {
    check();
  } catch (const std::exception& e) {
    std::cerr << name << ": check before timing failed: " << e.what() << "\n";
    return 1;
  }
  if (register_cases) register_cases();
  for (const auto& [key, value] : environment_info()) benchmark::AddCustomContext("lmlab_" + key, value);
  const char* blas_threads = std::getenv("OPENBLAS_NUM_THREADS");
  benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", blas_threads ? blas_threads : "unset");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace lmlab
