// foundation.text_gpt training steps per second: the lmlab C++ side of the C++ vs PyTorch comparison.
//
// One step is LMTrainer::step (include/lmlab/train/lm_trainer.h), the step foundation.text_gpt trains with:
// sample B windows of T+1 tokens, forward, lm_loss, zero_grad, backward, AdamW step at the
// scheduled learning rate; model and training settings are foundation.text_gpt's defaults
// (experiments/foundation/text_gpt.toml, compiled in). Deviation: the byte stream is random instead of the
// fortunes corpus (same shapes, same work).
//
// Before timing, the step is checked: the initial loss is ln 256 within 0.1 nats (GPT-2 init
// gives logits of variance about C 0.02^2 = 0.05, which adds about half that, 0.03 nats), and
// twenty steps on one batch lower it (warm-up keeps the first steps small). Timing is wall clock
// (UseRealTime; LibTorch runs a thread pool) at 1 and 2 intra-op threads, after two warm-up
// steps; items_per_second = steps/s.
// bench/peers/train_peer.py does the same work in Python PyTorch; bench/run.sh runs both, one
// thread count per process, with OpenBLAS's thread count set to match.
//
// LMLAB_PROFILE_STEPS=N: instead of timing, profiles N steps (after the warm-up) with LibTorch's
// profiler on one thread (LMLAB_PROFILE_THREADS=M: M threads; an operator's time is then its wall
// time on the calling thread) and prints each operator's self time (its time minus
// that of the operators it called), the largest first, as a markdown table.
#include <benchmark/benchmark.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <map>
#include <vector>

#include "bench_main.h"
#include "lm_settings.h"
#include "lmlab/core/config.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/models/gpt.h"
#include "registry.h"
#include "common/lm_config.h"
#include "lmlab/train/lm_trainer.h"

namespace lmlab {
namespace {

constexpr uint64_t kSeed = 1234;
constexpr int64_t kStreamTokens = int64_t{1} << 16;
constexpr int kWarmupSteps = 2;

// foundation.text_gpt's model and training settings (its defaults, experiments/foundation/text_gpt.toml).
using TrainSettings = LMSettings;
TrainSettings text_gpt_settings() { return lm_settings_of("foundation.text_gpt"); }

// A freshly initialised foundation.text_gpt model with its trainer, over a random byte stream.
struct Trainer {
  explicit Trainer(const TrainSettings& s)
      : data(torch::randint(256, {kStreamTokens}, make_generator(derive_seed(kSeed, "stream")), torch::kLong)),
        trainer((seed_everything(derive_seed(kSeed, "init")), GPT(s.model)), s.train, derive_seed(kSeed, "batches")) {}
  double step() { return trainer.step(data); }
  TextBatcher data;
  LMTrainer trainer;
};

// InternalError unless the step starts at ln 256 and learns (see the header comment).
void check_step(const TrainSettings& s) {
  Trainer t(s);
  torch::Generator gen = make_generator(kSeed);
  const TokenBatch b = t.data.sample(s.train.batch, s.model.context(), gen);
  const double first = t.trainer.step(b);
  double last = first;
  for (int i = 0; i < 20; ++i) last = t.trainer.step(b);
  LMLAB_CHECK(std::abs(first - std::log(256.0)) < 0.1, InternalError, "initial loss ", first,
              " nats is not ln 256 = ", std::log(256.0), " within 0.1; the model or lm_loss is miswired");
  LMLAB_CHECK(std::isfinite(last) && last < first, InternalError, "loss went from ", first, " to ", last,
              " nats in twenty steps on one batch; the optimizer step does not train");
}

void text_gpt_train_step(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(0)));
  const TrainSettings s = text_gpt_settings();
  Trainer t(s);
  for (int i = 0; i < kWarmupSteps; ++i) t.step();
  for (auto _ : state) t.step();
  state.SetItemsProcessed(state.iterations());
  state.counters["tokens_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * s.train.batch * s.model.context()), benchmark::Counter::kIsRate);
  state.counters["torch_threads"] = threads;
  state.counters["parameters"] = static_cast<double>(t.trainer.model()->num_parameters());
}
BENCHMARK(text_gpt_train_step)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Self time per operator over `steps` steps: each thread's push/pop ranges nest, so an operator's
// self time is its range less its direct children's.
void profile_steps(int steps, int threads) {
  namespace prof = torch::autograd::profiler;
  set_threads(threads);
  Trainer t(text_gpt_settings());
  for (int i = 0; i < kWarmupSteps; ++i) t.step();
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) t.step();
  const double total_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  const prof::thread_event_lists lists = prof::disableProfilerLegacy();
  struct Total {
    double self_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Total> totals;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        Total& total = totals[open.push->name()];
        total.self_us += us - open.children_us;
        ++total.calls;
        if (!stack.empty()) stack.back().children_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, Total>> rows(totals.begin(), totals.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  std::printf("%d steps, %.1f ms a step (profiled), %d thread(s)\n\n", steps, total_us / 1000 / steps,
              torch::get_num_threads());
  std::printf("| operator | self ms a step | %% of the step | calls a step |\n|---|---:|---:|---:|\n");
  double shown = 0;
  for (const auto& [name, total] : rows) {
    if (total.self_us < 0.005 * total_us) break;
    shown += total.self_us;
    std::printf("| %s | %.2f | %.1f | %.0f |\n", name.c_str(), total.self_us / 1000 / steps, 100 * total.self_us / total_us,
                double(total.calls) / steps);
  }
  std::printf("| (operators under 0.5%% each, and time outside operators) | %.2f | %.1f | |\n",
              (total_us - shown) / 1000 / steps, 100 * (total_us - shown) / total_us);
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  if (const char* steps = std::getenv("LMLAB_PROFILE_STEPS")) {
    lmlab::use_passive_omp_wait(argv);
    const char* threads = std::getenv("LMLAB_PROFILE_THREADS");
    lmlab::profile_steps(std::max(1, std::atoi(steps)), threads ? std::max(1, std::atoi(threads)) : 1);
    return 0;
  }
  return lmlab::run_benchmarks(argc, argv, "train_bench", [] { lmlab::check_step(lmlab::text_gpt_settings()); });
}
