// DP-SGD's step time (P6; lmlab/privacy/): one training step at batch 64 of the tiny GPT (2 layers,
// width 64, 4 heads, T = 32, byte vocabulary, tied head) and the tiny ViT (28x28, patch 7, 2
// layers, width 64, 10 classes), SGD underneath, in three modes:
//   mode 0 "plain": mean loss, one backward, step (non-private);
//   mode 1 "dp":    DPSGD: per-example gradients from one backward, clip, noise, step;
//   mode 2 "loop":  the same private step with one forward and backward per example (micro-batches
//                   of one, TF-Privacy's microbatching at its finest);
//   mode 3 "loop_batched": one forward of the batch, then one backward per example through it
//                   (autograd::grad of each l_i, the graph retained): the literal one backward per
//                   example, each through the whole batch's graph.
// Goals (docs/privacy.md): dp / plain at most 3x, loop / dp at least 5x. Plus the accountant:
// epsilon for 100,000 steps over Opacus's 151 default orders. bench/peers/privacy_peer.py times the
// same three modes in Python PyTorch (functorch vmap for the per-sample gradients).
#include <benchmark/benchmark.h>

#include <memory>

#include "bench_main.h"
#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/vit.h"
#include "lmlab/privacy/dp_sgd.h"
#include "lmlab/privacy/rdp_accountant.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.5;
constexpr int64_t kBatch = 64, kT = 32;
enum Mode { Plain, Dp, Loop, LoopBatched };
const char* const kModels[] = {"gpt", "vit"};
const char* const kModes[] = {"plain", "dp", "loop", "loop_batched"};

namespace F = torch::nn::functional;

struct Task {
  std::shared_ptr<torch::nn::Module> model;
  std::function<torch::Tensor(int64_t, int64_t)> losses;  // per-example losses of examples [begin, end)
  std::unique_ptr<torch::optim::SGD> sgd;
  std::unique_ptr<privacy::DPSGD> dp;
};

std::unique_ptr<Task> make(int model, double sigma = 1.0) {
  torch::manual_seed(7);
  auto t = std::make_unique<Task>();
  const auto none = F::CrossEntropyFuncOptions().reduction(torch::kNone);
  if (model == 0) {
    GPT gpt(GPTOptions().vocab(256).context(kT).layers(2).heads(4).width(64));
    const auto idx = torch::randint(0, 256, {kBatch, kT}, torch::kLong), tgt = torch::randint(0, 256, {kBatch, kT}, torch::kLong);
    t->losses = [gpt, idx, tgt, none](int64_t b, int64_t e) mutable {
      return F::cross_entropy(gpt(idx.slice(0, b, e)).reshape({-1, 256}), tgt.slice(0, b, e).reshape(-1), none)
          .reshape({e - b, kT}).mean(1);
    };
    t->model = gpt.ptr();
  } else {
    ViT vit(ViTOptions().image(28).patch(7).layers(2).heads(4).width(64).classes(10));
    const auto x = torch::randn({kBatch, 1, 28, 28}), y = torch::randint(0, 10, {kBatch}, torch::kLong);
    t->losses = [vit, x, y, none](int64_t b, int64_t e) mutable { return F::cross_entropy(vit(x.slice(0, b, e)), y.slice(0, b, e), none); };
    t->model = vit.ptr();
  }
  t->sgd = std::make_unique<torch::optim::SGD>(t->model->parameters(), torch::optim::SGDOptions(1e-3));
  t->dp = std::make_unique<privacy::DPSGD>(*t->model, *t->sgd, privacy::DPSGDOptions(sigma, 1.0, 0.01, 100 * kBatch));
  return t;
}

// The loop baselines: per example a backward (after its own forward, or through the batch's
// graph), the flat gradient clipped and summed; then the noise and the step as DP-SGD takes them.
void loop_step(Task& t, double sigma, torch::Generator& gen, bool batched) {
  const auto params = t.model->parameters();
  std::vector<torch::Tensor> sum;
  for (const auto& p : params) sum.push_back(torch::zeros_like(p));
  const torch::Tensor all = batched ? t.losses(0, kBatch) : torch::Tensor();
  for (int64_t i = 0; i < kBatch; ++i) {
    const auto g = batched ? torch::autograd::grad({all[i]}, params, {}, /*retain_graph=*/true)
                           : torch::autograd::grad({t.losses(i, i + 1).sum()}, params);
    double sq = 0;
    for (const auto& gi : g) sq += gi.pow(2).sum().item<double>();
    const double factor = std::min(1.0, 1.0 / (std::sqrt(sq) + 1e-6));
    for (size_t k = 0; k < g.size(); ++k) sum[k].add_(g[k], factor);
  }
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k)
    params[k].mutable_grad() = (sum[k] + sigma * torch::randn(sum[k].sizes(), gen)) / static_cast<double>(kBatch);
  t.sgd->step();
}

void step(Task& t, Mode mode, torch::Generator& gen) {
  if (mode == Plain) {
    t.sgd->zero_grad();
    t.losses(0, kBatch).mean().backward();
    t.sgd->step();
  } else if (mode == Dp) {
    t.dp->step(t.losses(0, kBatch));
  } else {
    loop_step(t, t.dp->options().noise_multiplier(), gen, mode == LoopBatched);
  }
}

void privacy_step(benchmark::State& state) {
  const int model = static_cast<int>(state.range(0));
  const auto mode = static_cast<Mode>(state.range(1));
  const int threads = set_threads(static_cast<int>(state.range(2)));
  const auto t = make(model);
  torch::Generator gen = torch::make_generator<at::CPUGeneratorImpl>(1);
  for (auto _ : state) step(*t, mode, gen);
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
  int64_t n = 0;
  for (const auto& p : t->model->parameters()) n += p.numel();
  state.counters["parameters"] = static_cast<double>(n);
  state.SetLabel(std::string(kModels[model]) + " " + kModes[mode]);
}

void accountant_epsilon(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(privacy::dp_sgd_epsilon(1.1, 0.01, 100000, 1e-5).epsilon);
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void register_all() {
  for (int threads : {1, 2}) {
    for (int model : {0, 1})
      for (int mode : {Plain, Dp, Loop, LoopBatched})
        benchmark::RegisterBenchmark("privacy_step", privacy_step)
            ->Args({model, mode, threads})
            ->ArgNames({"model", "mode", "threads"})
            ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("accountant_epsilon", accountant_epsilon)
        ->Args({threads})->ArgNames({"threads"})->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
}

// Without noise, DP-SGD's step and the loop's give the same parameters (the same clipped mean).
void check_all() {
  for (int model : {0, 1}) {
    const auto a = make(model, 0.0);
    torch::Generator gen = torch::make_generator<at::CPUGeneratorImpl>(1);
    step(*a, Dp, gen);
    for (const Mode mode : {Loop, LoopBatched}) {
      const auto b = make(model, 0.0);
      step(*b, mode, gen);
      const auto pa = a->model->parameters(), pb = b->model->parameters();
      double diff = 0, scale = 0;
      for (size_t k = 0; k < pa.size(); ++k) {
        diff = std::max(diff, (pa[k].grad() - pb[k].grad()).abs().max().item<double>());
        scale = std::max(scale, pb[k].grad().abs().max().item<double>());
      }
      LMLAB_CHECK(diff <= 1e-4 * scale, InternalError, kModels[model], ": DP-SGD's gradient differs from ", kModes[mode],
                  "'s by ", diff, " (largest entry ", scale, ")");
    }
  }
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "privacy_bench", lmlab::check_all, lmlab::register_all);
}
