// Allreduce across the ranks of lmlab's data-parallel group (DataParallelGroup: Gloo over c10d),
// the collective behind `lmlab run --data-parallel`, for float32 tensors of 4 KiB to 64 MiB.
// Run under torchrun by bench/distributed.sh, with its peer bench/peers/allreduce_peer.py (the same
// allreduce through torch.distributed's gloo backend), not by bench/run.sh. Each case runs a fixed
// number of iterations, so that every rank calls the collective the same number of times.
// Counters: bytes_per_second is the algorithm bandwidth, tensor bytes / time; the ring moves
// 2 (W - 1) / W of that per rank (Gloo's ring allreduce).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>

#include "bench_main.h"
#include "lmlab/core/world.h"
#include "lmlab/train/data_parallel.h"

namespace {

std::shared_ptr<lmlab::DataParallelGroup> group;

void allreduce(benchmark::State& state) {
  torch::Tensor t = torch::ones({state.range(0) / 4}, torch::kFloat);
  for (auto _ : state) group->allreduce_sum(t);
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

}  // namespace

int main(int argc, char** argv) {
  const lmlab::World world = lmlab::world_from_env();
  if (!world.distributed()) {
    std::fprintf(stderr, "allreduce_bench: run it on several ranks: bench/distributed.sh\n");
    return 2;
  }
  return lmlab::run_benchmarks(
      argc, argv, "allreduce_bench",
      [&] {
        group = std::make_shared<lmlab::DataParallelGroup>(world, lmlab::connect_store(world, std::chrono::minutes(5)));
        torch::Tensor t = torch::full({1000}, static_cast<float>(world.rank + 1));
        group->allreduce_sum(t);  // every rank must see 1 + 2 + ... + W
        if (t[0].item<float>() != static_cast<float>(world.size * (world.size + 1) / 2))
          throw std::runtime_error("allreduce gave " + std::to_string(t[0].item<float>()));
      },
      [] {
        for (int64_t bytes = 4 << 10; bytes <= (64 << 20); bytes *= 4)
          benchmark::RegisterBenchmark("allreduce", allreduce)
              ->Arg(bytes)
              ->Iterations(std::clamp<int64_t>((int64_t{1} << 28) / bytes, 10, 200))
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
      });
}
