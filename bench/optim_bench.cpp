// The optimizer plug-ins' step time (P4, P8; lmlab/optim/): one optimizer step over N float32
// parameters (4 tensors of N / 4, gradients fixed) for the base SGD with momentum 0.9 alone and
// wrapped by Reject Accelerating, Random Vector Accelerating (over all coordinates, and on a random
// 1024-dimensional subspace), RDBD and hypergradient descent;
// N = 1M and 10M, 1 and 2 threads. The overhead of a plug-in is its step time over the base's,
// measured in the same run. bench/peers/optim_peer.py times the same plug-ins written in plain
// Python PyTorch around torch.optim.SGD.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench_main.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.25;
enum Method { Base, Reject, RandomVector, Rdbd, Hd, RandomSubspace };
const char* const kLabels[] = {"sgd_momentum", "reject", "rva", "rdbd", "hd", "rva_k1024"};
constexpr int64_t kSubspace = 1024;

struct Setup {
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::SGD> sgd;
  std::unique_ptr<optim::StepWrapper> wrapper;
  std::unique_ptr<optim::LrAdapter> adapter;
  std::function<void()> step;
};

std::unique_ptr<Setup> make(Method method, int64_t n, double lr = 1e-6) {
  auto s = std::make_unique<Setup>();
  torch::manual_seed(n);
  for (int i = 0; i < 4; ++i) {
    s->params.push_back(torch::randn({n / 4}).requires_grad_());
    s->params.back().mutable_grad() = torch::randn({n / 4});
  }
  s->sgd = std::make_unique<torch::optim::SGD>(s->params, torch::optim::SGDOptions(lr).momentum(0.9));
  switch (method) {
    case Base: s->step = [p = s.get()] { p->sgd->step(); }; break;
    case Reject: s->wrapper = std::make_unique<optim::RejectAccelerating>(*s->sgd); break;
    case RandomVector: s->wrapper = std::make_unique<optim::RandomVectorAccelerating>(*s->sgd); break;
    case Rdbd: s->adapter = std::make_unique<optim::RDBD>(*s->sgd); break;
    case Hd: s->adapter = std::make_unique<optim::Hypergradient>(*s->sgd, optim::HypergradientOptions().beta(1e-12)); break;
    case RandomSubspace:
      s->wrapper = std::make_unique<optim::RandomVectorAccelerating>(
          *s->sgd, optim::RandomVectorAcceleratingOptions().subspace_dim(kSubspace));
      break;
  }
  if (s->wrapper) s->step = [p = s.get()] { p->wrapper->step(); };
  if (s->adapter) s->step = [p = s.get()] { p->adapter->step(); };
  return s;
}

void optim_step(benchmark::State& state) {
  const auto method = static_cast<Method>(state.range(0));
  const int threads = set_threads(static_cast<int>(state.range(2)));
  const auto s = make(method, state.range(1));
  for (auto _ : state) s->step();
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
  state.SetLabel(kLabels[method]);
}

void register_all() {
  for (int threads : {1, 2})
    for (int64_t n : {1000000, 10000000})
      for (int method : {Base, Reject, RandomVector, Rdbd, Hd, RandomSubspace})
        benchmark::RegisterBenchmark("optim_step", optim_step)
            ->Args({method, n, threads})
            ->ArgNames({"method", "params", "threads"})
            ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
}

// Every plug-in's step is finite, and RVA's is the accelerating branch: <d, u> >= ||u||^2 for the
// base step u (tests/optim/ check the rules exactly). At lr 0.1, so that float32 rounding of the
// parameters does not hide the acceleration term (about 2 / dim of ||u||^2).
void check_all() {
  for (int method : {Reject, RandomVector, Rdbd, Hd, RandomSubspace}) {
    const auto s = make(static_cast<Method>(method), 4000);
    s->step();
    for (const auto& p : s->params)
      LMLAB_CHECK(torch::isfinite(p).all().item<bool>(), InternalError, kLabels[method], ": a non-finite step");
  }
  const auto s = make(RandomVector, 4000, 0.1);
  std::vector<torch::Tensor> before;
  for (const auto& p : s->params) before.push_back(p.detach().clone());
  const auto base = make(Base, 4000, 0.1);
  base->step();
  s->step();
  double du = 0, uu = 0;
  for (size_t i = 0; i < s->params.size(); ++i) {
    const auto u = before[i] - base->params[i].detach(), d = before[i] - s->params[i].detach();
    du += d.dot(u).item<double>(), uu += u.dot(u).item<double>();
  }
  LMLAB_CHECK(du >= uu * (1 - 1e-4), InternalError, "RVA's step is not the accelerating branch: <d,u> = ", du,
              ", ||u||^2 = ", uu);
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "optim_bench", lmlab::check_all, lmlab::register_all);
}
