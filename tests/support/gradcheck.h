// Test support (not installed): the finite-difference gradient checker every custom backward is
// tested with (DESIGN.md, convention 5).
//
// For a scalar f and each tensor t, compares autograd's df/dt at a few entries i with the central
// difference (f(t + h e_i) - f(t - h e_i)) / 2h, in double precision. The truncation error is
// O(h^2 f''') and the rounding error O(eps |f| / h); h = 1e-5 balances both near 1e-10 for f = O(1).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace lmlab::test_support {

struct GradCheckOptions {
  double step = 1e-5;           // h
  double atol = 1e-7;           // |exact - numeric| <= atol + rtol |numeric|
  double rtol = 1e-5;
  int64_t entries = 3;          // checked entries per tensor: first, evenly spaced, last
  bool require_nonzero = true;  // fail when every checked derivative vanishes (a vacuous check)
};

// `f` evaluates the scalar function of `tensors` (double, requires_grad, read by f), `names` label
// them in messages. Entries are perturbed in place and restored.
inline ::testing::AssertionResult gradients_match_finite_differences(
    const std::function<torch::Tensor()>& f, const std::vector<torch::Tensor>& tensors,
    const std::vector<std::string>& names, const GradCheckOptions& opt = {}) {
  for (const auto& t : tensors)
    if (t.scalar_type() != torch::kDouble || !t.requires_grad())
      return ::testing::AssertionFailure() << "gradcheck needs double tensors with requires_grad";
  const auto analytic = torch::autograd::grad({f()}, tensors, {}, /*retain_graph=*/false,
                                              /*create_graph=*/false, /*allow_unused=*/true);
  std::ostringstream bad;
  double largest = 0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    auto flat = tensors[t].detach().view({-1});  // shares storage with the tensor
    const int64_t n = flat.numel();
    const int64_t count = std::min(n, std::max<int64_t>(opt.entries, 1));
    for (int64_t k = 0; k < count; ++k) {
      const int64_t i = count == 1 ? 0 : k * (n - 1) / (count - 1);
      const double saved = flat[i].item<double>();
      flat[i] = saved + opt.step;
      const double plus = f().item<double>();
      flat[i] = saved - opt.step;
      const double minus = f().item<double>();
      flat[i] = saved;
      const double numeric = (plus - minus) / (2 * opt.step);
      const double exact = analytic[t].defined() ? analytic[t].reshape({-1})[i].item<double>() : 0.0;
      if (!(std::abs(exact - numeric) <= opt.atol + opt.rtol * std::abs(numeric)))
        bad << "\n  " << names.at(t) << "[" << i << "]: autograd " << exact << ", finite difference " << numeric;
      largest = std::max(largest, std::abs(numeric));
    }
  }
  if (!bad.str().empty()) return ::testing::AssertionFailure() << "gradients differ:" << bad.str();
  if (opt.require_nonzero && largest <= opt.atol)
    return ::testing::AssertionFailure() << "all checked derivatives vanish; the check is vacuous";
  return ::testing::AssertionSuccess();
}

}  // namespace lmlab::test_support
