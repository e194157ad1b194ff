// One-pass streaming attention (P5, lmlab/streaming_attention/streaming_attention.h): tokens per second ingested
// (push: features phi2 of a chunk and S += Phi2^T [V | 1]), queried (phi1 and two products with
// the state) and processed causally (push and query interleaved), and the state's memory at
// n = 2^24 against a KV cache.
//
// Cases, scores exp(<q,k>/d) with entries in [-1.5, 1.5] (R = 2.25), degree 8 (relative error
// bound 3.8e-4): d = 4 (t = 495 features) and d = 8 (t = 12870):
//   streaming_push     push 4096 tokens into the state                        items = tokens
//   streaming_query    answer 4096 queries from a state of 4096 keys          items = tokens
//   streaming_causal   causal(q, k, v) over 4096 tokens from an empty state   items = tokens
//   streaming_memory   push 2^24 tokens (d = 4) once; counters state_bytes (S, z and phi1's weights,
//                      no output sketch), kv_cache_bytes = n d 2 sizeof(float) and their ratio
//                      (reported, not asserted); no rate, so no peer
// bench/peers/streaming_attention_peer.py runs the same state update and query in Python PyTorch (its
// "steps_per_second" are tokens per second, like items_per_second here).
// Before timing, main() checks the streaming results against the batch formula and exact softmax
// attention (see check_all).
#include <benchmark/benchmark.h>

#include "bench_main.h"
#include "lmlab/streaming_attention/streaming_attention.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

using streaming_attention::StreamingAttention;
using streaming_attention::StreamingAttentionOptions;

constexpr double kBound = 1.5;
constexpr int64_t kDegree = 8;
constexpr int64_t kTokens = 4096;

StreamingAttentionOptions bench_options(int64_t d) {
  return StreamingAttentionOptions(d).entry_bound(kBound).polynomial(
      streaming_attention::ExpPolynomialOptions().degree(kDegree).max_rel_error(1e-3));
}

torch::Tensor tokens(int64_t n, int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  return (torch::rand({n, d}, torch::kDouble) * 2 - 1) * kBound;
}

enum Mode { Push, Query, Causal };
const char* const kModeNames[] = {"streaming_push", "streaming_query", "streaming_causal"};

void tokens_case(benchmark::State& state) {
  const auto mode = static_cast<Mode>(state.range(0));
  const int64_t d = state.range(1);
  const int threads = set_threads(static_cast<int>(state.range(2)));
  torch::NoGradGuard no_grad;
  const torch::Tensor q = tokens(kTokens, d, 1), k = tokens(kTokens, d, 2), v = tokens(kTokens, d, 3);
  StreamingAttention s(bench_options(d));
  s.push(k, v);
  for (auto _ : state) {
    if (mode == Push) s.push(k, v);
    if (mode == Query) benchmark::DoNotOptimize(s.query(q).data_ptr());
    if (mode == Causal) {
      StreamingAttention fresh(bench_options(d));
      benchmark::DoNotOptimize(fresh.causal(q, k, v).data_ptr());
    }
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.counters["torch_threads"] = threads;
  state.counters["features"] = static_cast<double>(s.features().feature_dim());
  state.SetLabel(kModeNames[mode]);
}

void memory_case(benchmark::State& state) {
  const int64_t log2_n = state.range(0), d = 4, chunk = 1 << 16;
  const int threads = set_threads(static_cast<int>(state.range(1)));
  torch::NoGradGuard no_grad;
  const torch::Tensor k = tokens(chunk, d, 4), v = tokens(chunk, d, 5);
  int64_t state_bytes = 0;
  for (auto _ : state) {
    StreamingAttention s(bench_options(d));
    for (int64_t n = 0; n < (int64_t{1} << log2_n); n += chunk) s.push(k, v);
    state_bytes = s.state_bytes();
  }
  const double kv = static_cast<double>((int64_t{1} << log2_n) * d * 2 * 4);
  state.counters["state_bytes"] = static_cast<double>(state_bytes);
  state.counters["kv_cache_bytes"] = kv;
  state.counters["kv_over_state"] = kv / static_cast<double>(state_bytes);
  state.counters["torch_threads"] = threads;
}

void register_all() {
  for (int threads : {1, 2}) {
    for (int mode = Push; mode <= Causal; ++mode)
      for (int64_t d : {4, 8})
        benchmark::RegisterBenchmark(kModeNames[mode], tokens_case)
            ->Args({mode, d, threads})
            ->ArgNames({"mode", "d", "threads"})
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("streaming_memory", memory_case)
        ->Args({24, threads})
        ->ArgNames({"log2_n", "threads"})
        ->Iterations(1)
        ->Repetitions(1)  // one pass over 2^24 tokens takes tens of seconds; its counters are exact
        ->UseRealTime()
        ->Unit(benchmark::kSecond);
  }
}

// InternalError unless, for d = 4 and 8, push + query equals the batch formula (phi1 Q)(phi2 K)^T V
// over its normaliser to 1e-10, causal equals its masked form, and both are within the stated
// error bound of exact softmax attention.
void check_all() {
  torch::NoGradGuard no_grad;
  for (int64_t d : {4, 8}) {
    const torch::Tensor q = tokens(300, d, 6), k = tokens(300, d, 7), v = tokens(300, d, 8);
    StreamingAttention s(bench_options(d)), c(bench_options(d));
    s.push(k, v);
    const torch::Tensor a = s.features().phi1(q).mm(s.features().phi2(k).t());
    const torch::Tensor batch = a.mm(v) / a.sum(1, true);
    const torch::Tensor causal = a.tril().mm(v) / a.tril().sum(1, true);
    const torch::Tensor w = (q.mm(k.t()) / static_cast<double>(d)).exp();
    const torch::Tensor exact = w.mm(v) / w.sum(1, true);
    const torch::Tensor out = s.query(q);
    const double to_batch = (out - batch).abs().max().item<double>();
    const double to_causal = (c.causal(q, k, v) - causal).abs().max().item<double>();
    const double to_exact = (out - exact).abs().max().item<double>();
    LMLAB_CHECK(to_batch < 1e-10 && to_causal < 1e-10 && to_exact <= s.output_error_bound(), InternalError,
                "streaming attention (d = ", d, ") is off: batch ", to_batch, ", causal ", to_causal, ", exact ",
                to_exact, " (bound ", s.output_error_bound(), ")");
  }
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "streaming_attention_bench", lmlab::check_all, lmlab::register_all);
}
