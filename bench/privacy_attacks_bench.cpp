// The gradient-leakage attacks' iteration cost (P6; lmlab/privacy/): on a tanh MLP classifier
// 784 -> 512 -> 512 -> 10 (float32) and the gradient of a batch of B random 28x28 images:
//   dlg_step: one evaluation of DLG's objective sum_l ||dL(x', y')/dtheta_l - g_l||^2 and its
//             derivative in x', y' (double backward): one L-BFGS closure call;
//   ig_step:  one Inverting Gradients iteration as its loop runs it: the cosine objective, its
//             derivative, Adam on the sign, the box projection.
// B = 1 and 8, 1 and 2 threads. bench/peers/privacy_attacks_peer.py times the same work written
// in plain Python PyTorch (the model as torch.nn.Sequential).
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench_main.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/models/mlp.h"
#include "lmlab/privacy/gradient_matching.h"

namespace lmlab {
namespace {

using namespace privacy;
constexpr double kMinTime = 0.25;

struct Problem {
  MLP mlp{MLPOptions(784, {512, 512}, 10).activation(Activation::Tanh)};
  Victim victim;
  TensorList target;
  torch::Tensor x, y;
  explicit Problem(int64_t batch) {
    torch::manual_seed(0);
    mlp = MLP(MLPOptions(784, {512, 512}, 10).activation(Activation::Tanh));
    victim = classifier_victim(mlp->parameters(), [m = mlp](const torch::Tensor& in) mutable { return m->forward(in.flatten(1)); });
    target = victim_gradients(victim, torch::rand({batch, 1, 28, 28}), torch::randint(10, {batch}));
    x = torch::randn({batch, 1, 28, 28}).requires_grad_();
    y = torch::randn({batch, 10}).requires_grad_();
  }
  // The objective and its derivative in (x, y).
  std::pair<torch::Tensor, TensorList> step(GradientDistance distance) {
    const auto f = gradient_distance(victim_gradients(victim, x, y, true), target, distance);
    return {f, torch::autograd::grad({f}, {x, y})};
  }
};

void dlg_step(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(1)));
  Problem p(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(p.step(GradientDistance::SquaredL2).second[0].data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void ig_step(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(1)));
  Problem p(state.range(0));
  torch::optim::Adam adam(std::vector<torch::Tensor>{p.x, p.y}, torch::optim::AdamOptions(0.1));
  for (auto _ : state) {
    auto grads = p.step(GradientDistance::Cosine).second;
    p.x.mutable_grad() = grads[0].sign();
    p.y.mutable_grad() = grads[1].sign();
    adam.step();
    torch::NoGradGuard no_grad;
    p.x.clamp_(0, 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
}

void register_all() {
  for (int threads : {1, 2})
    for (int64_t batch : {1, 8}) {
      benchmark::RegisterBenchmark("dlg_step", dlg_step)->Args({batch, threads})->ArgNames({"batch", "threads"})
          ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("ig_step", ig_step)->Args({batch, threads})->ArgNames({"batch", "threads"})
          ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
}

// The objective at the true input is 0 and its derivative is finite elsewhere.
void check_all() {
  Problem p(2);
  const auto [f, g] = p.step(GradientDistance::SquaredL2);
  LMLAB_CHECK(std::isfinite(f.item<double>()) && torch::isfinite(g[0]).all().item<bool>(), InternalError,
              "dlg_step: a non-finite objective or derivative");
  const auto x = torch::rand({2, 1, 28, 28}), y = torch::tensor({1, 7});
  const double zero =
      gradient_distance(victim_gradients(p.victim, x, y), victim_gradients(p.victim, x, y), GradientDistance::SquaredL2)
          .item<double>();
  LMLAB_CHECK(zero == 0.0, InternalError, "the objective at the true input is ", zero, ", not 0");
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "privacy_attacks_bench", lmlab::check_all, lmlab::register_all);
}
