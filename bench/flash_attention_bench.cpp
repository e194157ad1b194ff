// Exact attention (lmlab/models/flash_attention.h) against LibTorch's two CPU paths.
//
// out = softmax(q k^T / sqrt(D) + M) v with q, k, v [B,H,T,D] = [1, 2, T, 64], T in
// {1024, 2048, 4096, 8192, 16384}, causal and not:
//   flash      lmlab's tiled online-softmax kernel (flash_attention)
//   composed   LibTorch matmul, masked_fill, softmax, matmul (composed_attention)
//   sdpa       at::_scaled_dot_product_attention, LibTorch 1.13's fused-attention entry point
// attention_forward times the forward; attention_train times forward + backward (sum of the
// output times a fixed random tensor, gradients for q, k, v), T up to 4096. sgemm times LibTorch's
// 2048^3 matrix product, the yardstick of the arithmetic rates.
//
// Counters: items_per_second = calls/s, flops = the useful flops per second: the forward's two
// products, 4 B H T S D, and for attention_train also the backward's five (the recomputed scores,
// dV, dP, dQ, dK: 10 B H T S D), halved when causal; peak_bytes = the most CPU tensor memory one call
// holds beyond its inputs (bench/peak_memory.h), torch_threads. Before timing, main() checks every
// path against composed_attention in double. Each case runs at least 0.25 s per repetition.
// bench/peers/flash_attention_peer.py times composed and sdpa in Python PyTorch.
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench_main.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"
#include "peak_memory.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.25;
constexpr int64_t kHeads = 2, kHeadDim = 64;

enum Path { Flash, Composed, Sdpa };
const char* const kPathNames[] = {"flash", "composed", "sdpa"};

torch::Tensor attend(Path path, const torch::Tensor& q, const torch::Tensor& k,
                     const torch::Tensor& v, bool causal) {
  switch (path) {
    case Flash: return flash_attention(q, k, v, causal);
    case Composed: return composed_attention(q, k, v, causal);
    case Sdpa: return std::get<0>(at::_scaled_dot_product_attention(q, k, v, {}, 0.0, false, causal));
  }
  throw InternalError("unknown attention path");
}

struct Inputs {
  torch::Tensor q, k, v, grad;
  Inputs(int64_t t, bool requires_grad) {
    torch::manual_seed(t);
    q = torch::randn({1, kHeads, t, kHeadDim}).requires_grad_(requires_grad);
    k = torch::randn({1, kHeads, t, kHeadDim}).requires_grad_(requires_grad);
    v = torch::randn({1, kHeads, t, kHeadDim}).requires_grad_(requires_grad);
    grad = torch::randn({1, kHeads, t, kHeadDim});
  }
};

void set_counters(benchmark::State& state, int64_t t, bool causal, int64_t peak, int threads, bool backward) {
  state.SetItemsProcessed(state.iterations());
  const double flops = (backward ? 14.0 : 4.0) * kHeads * t * t * kHeadDim * (causal ? 0.5 : 1.0);
  state.counters["flops"] = benchmark::Counter(flops * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_bytes"] = static_cast<double>(peak);
  state.counters["torch_threads"] = threads;
}

void attention_forward(benchmark::State& state) {
  const auto path = static_cast<Path>(state.range(0));
  const int64_t t = state.range(1);
  const bool causal = state.range(2) != 0;
  const int threads = set_threads(static_cast<int>(state.range(3)));
  torch::NoGradGuard no_grad;
  const Inputs in(t, false);
  const int64_t peak = PeakMemory::during([&] { attend(path, in.q, in.k, in.v, causal); });
  for (auto _ : state) benchmark::DoNotOptimize(attend(path, in.q, in.k, in.v, causal).data_ptr());
  set_counters(state, t, causal, peak, threads, false);
  state.SetLabel(kPathNames[path]);
}

void attention_train(benchmark::State& state) {
  const auto path = static_cast<Path>(state.range(0));
  const int64_t t = state.range(1);
  const bool causal = state.range(2) != 0;
  const int threads = set_threads(static_cast<int>(state.range(3)));
  const Inputs in(t, true);
  auto step = [&] {
    auto out = attend(path, in.q, in.k, in.v, causal);
    return torch::autograd::grad({out}, {in.q, in.k, in.v}, {in.grad});
  };
  const int64_t peak = PeakMemory::during([&] { step(); });
  for (auto _ : state) benchmark::DoNotOptimize(step()[0].data_ptr());
  set_counters(state, t, causal, peak, threads, true);
  state.SetLabel(kPathNames[path]);
}

// The arithmetic-rate yardstick: LibTorch's matrix product (OpenBLAS sgemm), 2048 x 2048 x 2048;
// flops = 2 n^3 per second. The attention cases' rates read as fractions of this one.
void sgemm(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(0)));
  constexpr int64_t n = 2048;
  torch::manual_seed(0);
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::empty({n, n});
  for (auto _ : state) torch::mm_out(c, a, b);
  state.counters["flops"] = benchmark::Counter(2.0 * n * n * n * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["torch_threads"] = threads;
  state.SetLabel("sgemm");
}

void register_all() {
  for (int threads : {1, 2})
    benchmark::RegisterBenchmark("sgemm", sgemm)->Arg(threads)->ArgName("threads")->MinTime(kMinTime)->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  for (int threads : {1, 2})
    for (int64_t causal : {0, 1})
      for (int p = Flash; p <= Sdpa; ++p) {
        for (int64_t t : {1024, 2048, 4096, 8192, 16384})
          benchmark::RegisterBenchmark("attention_forward", attention_forward)
              ->Args({p, t, causal, threads})
              ->ArgNames({"path", "T", "causal", "threads"})
              ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
        for (int64_t t : {1024, 4096})
          benchmark::RegisterBenchmark("attention_train", attention_train)
              ->Args({p, t, causal, threads})
              ->ArgNames({"path", "T", "causal", "threads"})
              ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
      }
}

// Every path's forward, and the flash backward, against composed attention in double.
void check_all() {
  for (bool causal : {false, true}) {
    Inputs in(300, true);
    auto d = [](const torch::Tensor& x) { return x.detach().to(torch::kDouble).requires_grad_(); };
    const auto qd = d(in.q), kd = d(in.k), vd = d(in.v);
    const auto want = composed_attention(qd, kd, vd, causal);
    const auto want_grad = torch::autograd::grad({want}, {qd, kd, vd}, {in.grad.to(torch::kDouble)});
    for (int p = Flash; p <= Sdpa; ++p) {
      const auto out = attend(static_cast<Path>(p), in.q, in.k, in.v, causal);
      const double err = (out.to(torch::kDouble) - want).abs().max().item<double>();
      LMLAB_CHECK(err < 1e-4, InternalError, kPathNames[p], " attention is off by ", err);
      const auto grad = torch::autograd::grad({out}, {in.q, in.k, in.v}, {in.grad});
      for (int i = 0; i < 3; ++i) {
        const double gerr = (grad[i].to(torch::kDouble) - want_grad[i]).abs().max().item<double>();
        LMLAB_CHECK(gerr < 1e-3, InternalError, kPathNames[p], " attention's gradient ", i,
                    " is off by ", gerr);
      }
    }
  }
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "flash_attention_bench", lmlab::check_all, lmlab::register_all);
}
