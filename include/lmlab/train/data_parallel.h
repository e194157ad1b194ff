// Data-parallel training across the ranks of a World (torchrun, srun) on LibTorch's c10d, the
// engine under PyTorch's DistributedDataParallel: a Gloo process group over the ranks' TCPStore,
// and c10d's Reducer, which averages the gradients across ranks in buckets (25 MiB, the first
// 1 MiB, as DDP), starting each bucket's allreduce during the backward as soon as its gradients
// are ready, so that communication overlaps the rest of the backward.
//
// Sharding: every rank draws the same global batch of B examples and trains on its share of the
// rows (DataParallelGroup::shard: an even split, the first B mod W ranks one row more), its mean
// loss scaled by W B_r / B. The average of the ranks' gradients is then the global batch's mean
// gradient, so W ranks take the steps of one process with batch B, up to the order of the float
// sums.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/torch.h>

#include "lmlab/core/world.h"

namespace c10d {
class Reducer;
}

namespace lmlab {

class DataParallelGroup {
 public:
  // The Gloo group of every rank of `world` (world.distributed()), meeting in `store`; DataError
  // when the ranks cannot connect.
  DataParallelGroup(const World& world, c10::intrusive_ptr<c10d::Store> store);

  int rank() const { return rank_; }
  int size() const { return size_; }
  const c10::intrusive_ptr<c10d::ProcessGroup>& group() const { return group_; }

  struct Shard {
    int64_t first, last;  // this rank's rows [first, last) of the global batch
    double weight;        // W (last - first) / B: the factor of this rank's mean loss
  };
  // This rank's share of a global batch of `batch` rows; empty when batch < W.
  Shard shard(int64_t batch) const;
  // Sums `t` across the ranks, in place.
  void allreduce_sum(torch::Tensor& t) const;
  // Copies rank 0's `tensors` to every rank, in place.
  void broadcast(std::vector<torch::Tensor> tensors) const;

 private:
  int rank_, size_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

// The group data-parallel training uses in this process: set by `lmlab run --data-parallel` under
// torchrun; null (the default) trains in one process.
void set_data_parallel_group(std::shared_ptr<DataParallelGroup> group);
const std::shared_ptr<DataParallelGroup>& data_parallel_group();

// One model replica kept in step with the other ranks': rank 0's parameters and buffers are copied
// to every rank at construction, and each backward begun after prepare() leaves in the parameters'
// .grad the average of the ranks' gradients.
class DataParallel {
 public:
  // `parameters`: the trainable ones, each of which every backward reaches.
  DataParallel(std::shared_ptr<DataParallelGroup> group, std::vector<torch::Tensor> parameters,
               std::vector<torch::Tensor> buffers);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Before the forward whose backward is to be averaged (as DDP's forward: the first one after the
  // first step also rebuilds the buckets in the order the gradients came): this rank's share of a
  // global batch of `batch` rows. A rank whose share is empty gets row 0 with weight 0, so that it
  // still takes part in the allreduce, with a zero gradient.
  DataParallelGroup::Shard prepare_forward(int64_t batch);
  // After that forward, before its backward.
  void prepare_backward();
  const DataParallelGroup& group() const { return *group_; }

 private:
  std::shared_ptr<DataParallelGroup> group_;
  std::unique_ptr<c10d::Reducer> reducer_;
};

// A DataParallel replica over data_parallel_group() of the trainable ones among `parameters`; null
// when training runs in one process.
std::unique_ptr<DataParallel> data_parallel_replica(const std::vector<torch::Tensor>& parameters,
                                                   std::vector<torch::Tensor> buffers);

}  // namespace lmlab
