// Private to bench/: the peak bytes of CPU tensor memory while a piece of code runs, measured by
// wrapping LibTorch's CPU allocator (every CPU tensor's storage comes from it; the kernels' stack
// tiles and LibTorch's scratch outside tensors are not counted).
#pragma once

#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstdint>
#include <functional>

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

  c10::DataPtr allocate(size_t n) const override {
    auto* block = new Block{inner_->allocate(n), static_cast<int64_t>(n), this};
    const int64_t now = current_ += block->bytes;
    for (int64_t p = peak_.load(); now > p && !peak_.compare_exchange_weak(p, now);) {
    }
    return {block->data.get(), block, &release, block->data.device()};
  }
  // Raw allocations (not used for tensor storage on the CPU) are not supported.
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }

 private:
  struct Block {
    c10::DataPtr data;
    int64_t bytes;
    const PeakMemory* owner;
  };
  static void release(void* ctx) {
    auto* block = static_cast<Block*>(ctx);
    block->owner->current_ -= block->bytes;
    delete block;
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
};

}  // namespace lmlab
