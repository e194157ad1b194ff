// Private header (not part of the public API). Debian's libtorch-dev ships c10d's reducer.hpp, the
// engine of DistributedDataParallel, but not the distributed-autograd header it includes for two
// names. This declares those two names only, as LibTorch 1.13 defines them: the Reducer's layout
// depends on them only through a shared_ptr and a pointer, and lmlab uses nothing else of
// distributed autograd (src/train/data_parallel.cpp is the one file that includes it).
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};

using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
