// The step of torch::optim::SGD with momentum (torch 1.13: b <- mu b + (1 - tau)(g + lambda p),
// p <- p - lr b) taken by lmlab's fused kernels (lmlab/kernels/optim_step.h) in two passes, so a
// plug-in sees the step's direction b and its inner products without copying the parameters:
// update() advances the momentum buffers held in the optimizer's own state (created on the first
// step as LibTorch creates them, so its save, load and later steps continue from them) and returns
// each group's inner products; a move (along(), gradient()) then takes the parameters' half. The
// AVX2 kernels give LibTorch's own step bit for bit (tests/optim/momentum_step_test.cpp).
//
// It applies (applies()) to a torch::optim::SGD with momentum > 0 and no Nesterov term whose
// parameters with a gradient are contiguous float32 CPU tensors with float32 gradients and
// buffers of their shape; the plug-ins observe the step of any other optimizer (step_wrapper.h).
// Passes run over slices of 64k floats across LibTorch's threads; inner products are summed in
// slice order, so they do not depend on the thread count.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "lmlab/kernels/optim_step.h"
#include "lmlab/optim/acceleration.h"

namespace lmlab::optim {

class MomentumStep {
 public:
  static bool applies(torch::optim::Optimizer& base);

  struct Group {
    TensorList params, grads, buffers;  // the parameters with a gradient, in the group's order
    kernels::MomentumDots dots;         // set by update()
  };

  // The parameters with a gradient of `base`, group by group; `base` must satisfy applies().
  explicit MomentumStep(torch::optim::Optimizer& base);

  // Pass 1: every momentum buffer advances; with `averages` (one list per group, each empty or
  // one tensor per parameter; empty lists start at zeros), a <- theta a + (1 - theta) b too.
  void update(std::vector<TensorList>* averages = nullptr, double theta = 0);
  // Pass 2: p <- p - lr b - c v with each group's lr; `v` is empty (p <- p - lr b, LibTorch's
  // step) or one tensor per parameter, all groups in order.
  void along(const TensorList& v = {}, double c = 0);
  // Pass 2 of a rejected acceleration: p <- p - lr g.
  void gradient();

  std::vector<Group>& groups() { return groups_; }
  // The inner products summed over groups.
  kernels::MomentumDots dots() const;

 private:
  // p <- p - lr x - c v, x the buffers or the gradients.
  void move(bool along_gradient, const TensorList& v, double c);

  torch::optim::SGD& sgd_;
  std::vector<Group> groups_;
};

// The floats of one slice of the fused passes.
constexpr int64_t kSlice = int64_t(1) << 16;

// Runs fn(slice, begin, end) over [0, n) in slices of kSlice floats across LibTorch's threads.
template <class Fn>
void for_slices(int64_t n, const Fn& fn) {
  at::parallel_for(0, (n + kSlice - 1) / kSlice, 1, [&](int64_t first, int64_t last) {
    for (int64_t s = first; s < last; ++s) fn(s, s * kSlice, std::min(n, (s + 1) * kSlice));
  });
}

// fn(begin, end) -> Dots (a kernels::*Dots type) over the slices of for_slices(), summed in slice
// order.
template <class Dots, class Fn>
Dots over_slices(int64_t n, const Fn& fn) {
  std::vector<Dots> parts((n + kSlice - 1) / kSlice);
  for_slices(n, [&](int64_t s, int64_t begin, int64_t end) { parts[s] = fn(begin, end); });
  Dots total;
  for (const auto& part : parts) total += part;
  return total;
}

}  // namespace lmlab::optim
