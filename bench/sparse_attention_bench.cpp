// Sparse top-k attention (P3, lmlab/sparse_attention/sparse_attention.h) against dense softmax attention, one head:
// q, k, v [1,1,T,64] float, non-causal, T in {4096, 16384}, k = T^0.5 (64 and 128):
//   dense        SoftmaxAttention::forward: LibTorch's composed matmul, softmax, matmul (materialises
//                the [T,T] map: 1 GiB of scores at T = 16384)
//   sparse_topk  sparse_attention::sparse_attention with Selection::TopK: scores a block of rows at a time
//                (2 MiB), selection, softmax and weighting of the kept rows only
// Counters: items_per_second = calls/s, torch_threads. The speedup is the ratio of the two cases'
// rates at the same T and threads. bench/peers/sparse_attention_peer.py times the same cases in Python
// PyTorch (dense, and torch.topk on the dense scores for sparse_topk).
// Before timing, main() checks sparse_topk against the composed top-k reference (matmul, topk,
// gather, softmax) at the benchmark's T = 4096, and k = T against dense attention.
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench_main.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/models/attention.h"

namespace lmlab {
namespace {

constexpr int64_t kHeadDim = 64;

struct Qkv {
  torch::Tensor q, k, v;
};

Qkv make_inputs(int64_t t) {
  torch::manual_seed(t);
  return {torch::randn({1, 1, t, kHeadDim}), torch::randn({1, 1, t, kHeadDim}), torch::randn({1, 1, t, kHeadDim})};
}

int64_t top_k_for(int64_t t) { return static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(t)))); }

// The composed top-k reference (what the peer times): dense scores, torch::topk, softmax of the kept.
torch::Tensor composed_top_k(const Qkv& x, int64_t k) {
  const torch::Tensor scores = torch::matmul(x.q, x.k.transpose(-2, -1)) / std::sqrt(static_cast<double>(kHeadDim));
  const auto [values, indices] = scores.topk(k, -1);
  const torch::Tensor kept = x.v.squeeze(0).squeeze(0).index_select(0, indices.view({-1})).view({1, 1, -1, k, kHeadDim});
  return torch::matmul(torch::softmax(values, -1).unsqueeze(-2), kept).squeeze(-2);
}

torch::Tensor sparse_top_k(const Qkv& x, int64_t k) {
  return sparse_attention::sparse_attention(x.q, x.k, x.v, sparse_attention::SparseAttentionOptions().k(k)).out;
}

void dense(benchmark::State& state) {
  const int64_t t = state.range(0);
  const int threads = set_threads(static_cast<int>(state.range(1)));
  torch::NoGradGuard no_grad;
  const Qkv x = make_inputs(t);
  SoftmaxAttention core;
  core.forward(x.q, x.k, x.v, false);
  for (auto _ : state) benchmark::DoNotOptimize(core.forward(x.q, x.k, x.v, false).data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void sparse_topk(benchmark::State& state) {
  const int64_t t = state.range(0), k = state.range(1);
  const int threads = set_threads(static_cast<int>(state.range(2)));
  torch::NoGradGuard no_grad;
  const Qkv x = make_inputs(t);
  sparse_top_k(x, k);
  for (auto _ : state) benchmark::DoNotOptimize(sparse_top_k(x, k).data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void register_all() {
  for (int threads : {1, 2})
    for (int64_t t : {4096, 16384}) {
      benchmark::RegisterBenchmark("dense", dense)
          ->Args({t, threads})->ArgNames({"T", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("sparse_topk", sparse_topk)
          ->Args({t, top_k_for(t), threads})->ArgNames({"T", "k", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
    }
}

// InternalError unless sparse top-k equals the composed reference at T = 4096, k = 64 and dense
// attention at k = T (T = 512), to float rounding of sums of T terms.
void check_all() {
  torch::NoGradGuard no_grad;
  const Qkv x = make_inputs(4096);
  const double e = (sparse_top_k(x, 64) - composed_top_k(x, 64)).abs().max().item<double>();
  LMLAB_CHECK(e < 1e-4, InternalError, "sparse_topk is off the composed top-k reference by ", e);
  const Qkv small = make_inputs(512);
  const double d = (sparse_top_k(small, 512) - SoftmaxAttention().forward(small.q, small.k, small.v, false))
                       .abs().max().item<double>();
  LMLAB_CHECK(d < 1e-4, InternalError, "sparse_topk with k = T is off dense attention by ", d);
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "sparse_attention_bench", lmlab::check_all, lmlab::register_all);
}
