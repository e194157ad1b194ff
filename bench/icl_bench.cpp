// In-context learning (P9; lmlab/icl/): the learner's training step (forward, backward and Adam on
// a fresh batch of 64 prompts: d = 5, the quick config (N = 11, 2 layers, width 32) and the full
// one (N = 21, 3 layers, width 64)), and the fitting time of RICL (100 Adam steps over 256
// validation prompts, batch 64) and LARICL (one Jacobian pass over the 256 and a K x K solve) on
// the quick learner; 1 and 2 threads. bench/peers/icl_peer.py times the same model and fits
// written in plain Python PyTorch.
#include <benchmark/benchmark.h>

#include "bench_main.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/icl/laricl.h"
#include "lmlab/icl/learner.h"
#include "lmlab/icl/prompts.h"
#include "lmlab/icl/ricl.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.5;
constexpr int64_t kDim = 5, kBatch = 64, kValidation = 256;

icl::InContextLearner make_learner(int64_t points, int64_t layers, int64_t width) {
  torch::manual_seed(0);
  return icl::InContextLearner(icl::InContextLearnerOptions(kDim, points).layers(layers).heads(2).width(width));
}

icl::Prompts prompts(int64_t points, int64_t batch, uint64_t seed) {
  return icl::regression_prompts(icl::RegressionPromptOptions(kDim, points).noise_std(0.5), batch, make_generator(seed));
}

// One training step as train_learner takes it.
void icl_train_step(benchmark::State& state) {
  const int64_t points = state.range(0), layers = state.range(1), width = state.range(2);
  const int threads = set_threads(static_cast<int>(state.range(3)));
  auto learner = make_learner(points, layers, width);
  torch::optim::Adam adam(learner->parameters(), torch::optim::AdamOptions(1e-3));
  auto gen = make_generator(1);
  for (auto _ : state) {
    const auto p = icl::regression_prompts(icl::RegressionPromptOptions(kDim, points).noise_std(0.5), kBatch, gen);
    const auto loss = (learner->forward(p.xs, p.ys) - p.ys).pow(2).mean() / static_cast<double>(kDim);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void icl_fit(benchmark::State& state) {
  const bool ricl = state.range(0) == 0;
  const int threads = set_threads(static_cast<int>(state.range(1)));
  auto learner = make_learner(11, 2, 32);
  learner->eval();
  const auto f = icl::learner_predictor(learner);
  const auto val = prompts(11, kValidation, 2);
  for (auto _ : state) {
    if (ricl)
      benchmark::DoNotOptimize(icl::fit_ricl(f, val.xs, val.ys, icl::RICLOptions().steps(100).lr(0.02).batch(kBatch)).weights);
    else
      benchmark::DoNotOptimize(icl::fit_laricl(f, val.xs, val.ys, icl::LARICLOptions().ridge(1e-3)).weights);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
  state.SetLabel(ricl ? "ricl" : "laricl");
}

void register_all() {
  for (int threads : {1, 2}) {
    for (const auto& [points, layers, width] : {std::tuple{11, 2, 32}, std::tuple{21, 3, 64}})
      benchmark::RegisterBenchmark("icl_train_step", icl_train_step)
          ->Args({points, layers, width, threads})
          ->ArgNames({"points", "layers", "width", "threads"})
          ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
    for (int method : {0, 1})
      benchmark::RegisterBenchmark("icl_fit", icl_fit)
          ->Args({method, threads})
          ->ArgNames({"method", "threads"})
          ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

// Training steps lower the loss of a fixed batch's forward, and both fits give finite weights.
void check_all() {
  auto learner = make_learner(11, 2, 32);
  const auto val = prompts(11, kValidation, 2);
  const auto f = icl::learner_predictor(learner);
  for (const auto& w : {icl::fit_ricl(f, val.xs, val.ys, icl::RICLOptions().steps(3).batch(kBatch)).weights,
                        icl::fit_laricl(f, val.xs, val.ys).weights})
    LMLAB_CHECK(w.sizes() == torch::IntArrayRef({10}) && torch::isfinite(w).all().item<bool>(), InternalError,
                "icl_bench: a fit gave non-finite or misshapen weights ", w);
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "icl_bench", lmlab::check_all, lmlab::register_all);
}
