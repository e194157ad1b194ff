// Private to bench/: the peak bytes of CPU tensor memory while a piece of code runs, measured by
// wrapping LibTorch's CPU allocator (every CPU tensor's storage comes from it; the kernels' stack
// tiles and LibTorch's scratch outside tensors are not counted).
#pragma once

#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace lmlab {

class PeakMemory final : public c10::Allocator {
 public:
  // Bytes allocated at the peak of f(), above what was allocated when it started.
  static int64_t during(const std::function<void()>& f) {
    PeakMemory& self = instance();
    const int64_t base = self.current_.load();
    self.peak_.store(base);
    f();
    return self.peak_.load() - base;
  }

  // The block's data pointer is its context, so LibTorch's raw allocations work too; the inner
  // allocator's DataPtr and the size live in a table until the block is freed.
  c10::DataPtr allocate(size_t n) const override {
    c10::DataPtr inner = inner_->allocate(n);
    void* data = inner.get();
    const c10::Device device = inner.device();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks_.emplace(data, Block{std::move(inner), static_cast<int64_t>(n)});
    }
    const int64_t now = current_ += static_cast<int64_t>(n);
    for (int64_t p = peak_.load(); now > p && !peak_.compare_exchange_weak(p, now);) {
    }
    return {data, data, &release, device};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

 private:
  struct Block {
    c10::DataPtr data;
    int64_t bytes;
  };
  static void release(void* data) {
    PeakMemory& self = instance();
    c10::DataPtr freed;  // destroyed outside the lock
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      const auto it = self.blocks_.find(data);
      self.current_ -= it->second.bytes;
      freed = std::move(it->second.data);
      self.blocks_.erase(it);
    }
  }
  static PeakMemory& instance() {
    static PeakMemory* self = [] {
      auto* p = new PeakMemory(c10::GetCPUAllocator());
      c10::SetCPUAllocator(p, /*priority=*/1);
      return p;
    }();
    return *self;
  }
  explicit PeakMemory(c10::Allocator* inner) : inner_(inner) {}
  c10::Allocator* inner_;
  mutable std::atomic<int64_t> current_{0}, peak_{0};
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, Block> blocks_;
};

}  // namespace lmlab
