// Data-parallel training on c10d (include/lmlab/train/data_parallel.h).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO  // LibTorch's ProcessGroupGloo.hpp declares the group only with it
#endif
#include "lmlab/train/data_parallel.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

// DistributedDataParallel's defaults: buckets of 25 MiB, the first one 1 MiB so that its allreduce
// starts early in the backward.
constexpr int64_t kBucketBytes = 25 << 20, kFirstBucketBytes = 1 << 20;

std::shared_ptr<DataParallelGroup>& current_group() {
  static std::shared_ptr<DataParallelGroup> group;
  return group;
}

}  // namespace

DataParallelGroup::DataParallelGroup(const World& world, c10::intrusive_ptr<c10d::Store> store)
    : rank_(world.rank), size_(world.size) {
  LMLAB_ASSERT(world.distributed(), "a data-parallel group needs a world of several ranks");
  // Every rank makes its groups in the same order, so the n-th group of each meets under one prefix.
  static int groups = 0;
  const std::string prefix = "lmlab/gloo/" + std::to_string(world.restart) + "/" + std::to_string(groups++);
  auto options = c10d::ProcessGroupGloo::Options::create();
  try {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>(prefix, std::move(store)),
        rank_, size_, options);
  } catch (const std::exception& e) {
    throw DataError(std::string("the ranks' Gloo group did not connect (") + e.what() +
                    "); check that every rank reaches the others' hosts, or name the network interface with "
                    "GLOO_SOCKET_IFNAME");
  }
}

DataParallelGroup::Shard DataParallelGroup::shard(int64_t batch) const {
  const int64_t per = batch / size_, extra = batch % size_;
  const int64_t first = rank_ * per + std::min<int64_t>(rank_, extra);
  const int64_t last = first + per + (rank_ < extra ? 1 : 0);
  return {first, last, batch > 0 ? static_cast<double>(size_ * (last - first)) / static_cast<double>(batch) : 0.0};
}

void DataParallelGroup::allreduce_sum(torch::Tensor& t) const {
  std::vector<torch::Tensor> one{t};
  group_->allreduce(one)->wait();
}

void DataParallelGroup::broadcast(std::vector<torch::Tensor> tensors) const {
  torch::NoGradGuard no_grad;
  if (tensors.empty()) return;
  c10d::BroadcastOptions o;
  o.rootRank = 0;
  for (torch::Tensor& t : tensors) {  // one call each: Gloo broadcasts a list of same-shaped tensors only
    std::vector<torch::Tensor> one{t};
    group_->broadcast(one, o)->wait();
  }
}

void set_data_parallel_group(std::shared_ptr<DataParallelGroup> group) { current_group() = std::move(group); }

const std::shared_ptr<DataParallelGroup>& data_parallel_group() { return current_group(); }

DataParallel::DataParallel(std::shared_ptr<DataParallelGroup> group, std::vector<torch::Tensor> parameters,
                           std::vector<torch::Tensor> buffers)
    : group_(std::move(group)) {
  LMLAB_ASSERT(group_ != nullptr, "DataParallel needs a group");
  LMLAB_CHECK(!parameters.empty(), UsageError, "data-parallel training of a model with no trainable parameter");
  group_->broadcast(parameters);
  group_->broadcast(std::move(buffers));
  // Buckets by size in the parameters' order, then reversed, to approximate the order in which the
  // backward produces the gradients (as DDP; the first step's order then rebuilds them).
  auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(
      parameters, {static_cast<size_t>(kFirstBucketBytes), static_cast<size_t>(kBucketBytes)},
      std::vector<bool>(parameters.size(), false));
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  const size_t n = parameters.size();
  reducer_ = std::make_unique<c10d::Reducer>(std::move(parameters), buckets, limits, group_->group(),
                                             std::vector<bool>(n, false), kBucketBytes,
                                             /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
                                             std::unordered_map<size_t, std::string>{}, kFirstBucketBytes);
}

DataParallel::~DataParallel() = default;

DataParallelGroup::Shard DataParallel::prepare_forward(int64_t batch) {
  reducer_->rebuild_buckets();
  reducer_->prepare_for_forward();
  const DataParallelGroup::Shard s = group_->shard(batch);
  return s.last > s.first ? s : DataParallelGroup::Shard{0, 1, 0.0};
}

void DataParallel::prepare_backward() { reducer_->prepare_for_backward({}); }

std::unique_ptr<DataParallel> data_parallel_replica(const std::vector<torch::Tensor>& parameters,
                                                   std::vector<torch::Tensor> buffers) {
  const std::shared_ptr<DataParallelGroup>& group = data_parallel_group();
  if (group == nullptr || group->size() == 1) return nullptr;
  std::vector<torch::Tensor> trainable;
  for (const torch::Tensor& p : parameters)
    if (p.requires_grad()) trainable.push_back(p);
  return std::make_unique<DataParallel>(group, std::move(trainable), std::move(buffers));
}

}  // namespace lmlab
