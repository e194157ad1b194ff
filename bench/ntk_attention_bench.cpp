// NTK-Attention against P-Tuning v2 prefix attention as the prefix length m grows
// (lmlab/ntk_attention/ntk_attention.h, prefix_attention.h; NOTES P2).
//
// One attention layer's core, q, k, v [B,H,L,D] = [1, 8, L, 64], L in {128, 1024}, causal (the
// prefix is never masked), forward + backward (sum of the output times a fixed random tensor;
// gradients for q, k, v and the adapter's parameters):
//   method 0  NTK-Attention, fused kernel: (Z [H,D,D], k [H,D]) stand for the m prefix tokens, so
//             the work does not depend on m (the case is run per m to show it)
//   method 1  P-Tuning v2: m learnable keys and values per head prepended to the input's, exact
//             attention over m + L keys (lmlab's flash kernel)
// m in {16, 256, 4096, 65536} (65536 with L = 128 only: method 1 needs ~60 GFLOP per step there).
// Counters: items_per_second = steps/s, torch_threads. Before timing, main() checks the fused
// NTK-Attention against composed_ntk_attention in double, forward and gradients.
// bench/peers/ntk_attention_peer.py runs the same formulas in Python PyTorch.
#include <benchmark/benchmark.h>

#include "bench_main.h"
#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/ntk_attention/prefix_attention.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.25;
constexpr int64_t kHeads = 8, kHeadDim = 64;

enum Method { Ntk, Prefix };

void ntk_attention_train(benchmark::State& state) {
  const auto method = static_cast<Method>(state.range(0));
  const int64_t l = state.range(1), m = state.range(2);
  const int threads = set_threads(static_cast<int>(state.range(3)));
  torch::manual_seed(l + m);
  std::shared_ptr<AttentionCore> core;
  if (method == Ntk)
    core = std::make_shared<ntk_attention::NtkAttention>(kHeads, kHeadDim, ntk_attention::NtkAttentionOptions().z_init_std(0.1));
  else
    core = std::make_shared<ntk_attention::PrefixAttention>(kHeads, kHeadDim, ntk_attention::PrefixAttentionOptions(m));
  const auto q = torch::randn({1, kHeads, l, kHeadDim}).requires_grad_();
  const auto k = torch::randn({1, kHeads, l, kHeadDim}).requires_grad_();
  const auto v = torch::randn({1, kHeads, l, kHeadDim}).requires_grad_();
  const auto grad = torch::randn({1, kHeads, l, kHeadDim});
  auto wrt = core->parameters();
  wrt.insert(wrt.end(), {q, k, v});
  auto step = [&] { return torch::autograd::grad({core->forward(q, k, v, true)}, wrt, {grad}); };
  for (auto _ : state) benchmark::DoNotOptimize(step()[0].data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
  int64_t parameters = 0;
  for (const auto& p : core->parameters()) parameters += p.numel();
  state.counters["parameters"] = static_cast<double>(parameters);
  state.SetLabel(method == Ntk ? "ntk_attention" : "p_tuning_v2");
}

void register_all() {
  for (int threads : {1, 2})
    for (int method : {Ntk, Prefix})
      for (int64_t l : {128, 1024})
        for (int64_t m : {16, 256, 4096, 65536}) {
          if (l == 1024 && m == 65536) continue;
          benchmark::RegisterBenchmark("ntk_attention_train", ntk_attention_train)
              ->Args({method, l, m, threads})
              ->ArgNames({"method", "L", "m", "threads"})
              ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
        }
}

void check_all() {
  for (bool causal : {false, true}) {
    torch::manual_seed(3);
    const auto q = torch::randn({1, 2, 100, kHeadDim}), k = torch::randn({1, 2, 100, kHeadDim}),
               v = torch::randn({1, 2, 100, kHeadDim});
    const auto z = torch::randn({2, kHeadDim, kHeadDim}) * 0.1, kappa = torch::rand({2, kHeadDim});
    const auto g = torch::randn({1, 2, 100, kHeadDim});
    std::vector<torch::Tensor> in = {q, k, v, z, kappa}, fused_in, ref_in;
    for (const auto& x : in) fused_in.push_back(x.clone().requires_grad_()), ref_in.push_back(x.to(torch::kDouble).requires_grad_());
    const auto out = ntk_attention::fused_ntk_attention(fused_in[0], fused_in[1], fused_in[2], fused_in[3], fused_in[4], causal);
    const auto want = ntk_attention::composed_ntk_attention(ref_in[0], ref_in[1], ref_in[2], ref_in[3], ref_in[4], causal);
    const double err = (out.to(torch::kDouble) - want).abs().max().item<double>();
    LMLAB_CHECK(err < 1e-4, InternalError, "fused NTK-Attention is off by ", err);
    const auto got_g = torch::autograd::grad({out}, fused_in, {g});
    const auto want_g = torch::autograd::grad({want}, ref_in, {g.to(torch::kDouble)});
    for (size_t i = 0; i < in.size(); ++i) {
      const double gerr = (got_g[i].to(torch::kDouble) - want_g[i]).abs().max().item<double>() /
                          std::max(1.0, want_g[i].abs().max().item<double>());
      LMLAB_CHECK(gerr < 1e-3, InternalError, "fused NTK-Attention's gradient ", i, " is off by ", gerr);
    }
  }
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "ntk_attention_bench", lmlab::check_all, lmlab::register_all);
}
