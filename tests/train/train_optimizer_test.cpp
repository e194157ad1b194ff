// make_adamw (lmlab/train/train_optimizer.h) against torch::optim::AdamW: the same parameters and
// moments after several steps with a changing learning rate, sizes around the vector width and
// above one slice, a parameter without a gradient, and the fallback for float64.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/kernels/dispatch.h"
#include "lmlab/train/train_optimizer.h"

namespace lmlab {
namespace {

std::vector<torch::Tensor> leaf_params(torch::ScalarType dtype) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> ps;
  for (int64_t n : {1, 7, 9, 64, 40000}) ps.push_back(torch::randn({n}, dtype).requires_grad_());
  ps.push_back(torch::randn({33, 17}, dtype).requires_grad_());
  return ps;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

// Five steps of both optimizers on the same gradients (parameter 2 gets none at step 3); the
// largest difference of a parameter, relative to max(|p|, 1).
double max_difference(torch::ScalarType dtype) {
  const auto ours_p = leaf_params(dtype), theirs_p = copies(ours_p);
  auto ours = make_adamw(ours_p, 1e-2, 0.1);
  torch::optim::AdamW theirs(theirs_p, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  for (int step = 1; step <= 5; ++step) {
    const double lr = 1e-2 / step;
    ours->set_lr(lr);
    set_group_lrs(theirs, lr);
    ours->zero_grad();
    theirs.zero_grad();
    for (size_t i = 0; i < ours_p.size(); ++i) {
      if (step == 3 && i == 2) {  // no gradient: both skip the parameter
        ours_p[i].mutable_grad().reset();
        theirs_p[i].mutable_grad().reset();
        continue;
      }
      const auto g = torch::randn_like(ours_p[i]) * static_cast<double>(i + 1);
      ours_p[i].mutable_grad() = g.clone();
      theirs_p[i].mutable_grad() = g.clone();
    }
    ours->step();
    theirs.step();
  }
  double worst = 0;
  for (size_t i = 0; i < ours_p.size(); ++i) {
    EXPECT_FALSE(torch::equal(ours_p[i], leaf_params(dtype)[i])) << "parameter " << i << " did not move";
    const auto diff = (ours_p[i] - theirs_p[i]).abs() / theirs_p[i].abs().clamp_min(1.0);
    worst = std::max(worst, diff.max().item<double>());
  }
  return worst;
}

// The fused pass does LibTorch's float32 operations in its order, but LibTorch's build may fuse
// other multiply-adds: each step may round a parameter differently by about an ulp (1.2e-7
// relative), so five steps stay below 1e-6 (8 ulps); a missing bias correction or weight decay
// moves a parameter by more than 1e-4.
// The kernels' levels agree bit for bit (tests/kernels/optim_step_test.cpp); this runs the active one.
TEST(FusedAdamW, MatchesTorchAdamW) {
  EXPECT_LT(max_difference(torch::kFloat), 1e-6) << simd_level_name(active_simd_level());
}

TEST(FusedAdamW, ZeroGradDropsTheGradients) {
  auto ps = leaf_params(torch::kFloat);
  auto opt = make_adamw(ps, 1e-3, 0.0);
  ps[0].mutable_grad() = torch::ones_like(ps[0]);
  opt->zero_grad();
  EXPECT_FALSE(ps[0].grad().defined());
  const auto before = ps[0].detach().clone();
  opt->step();  // no gradient: the parameter stays, as in LibTorch
  EXPECT_TRUE(torch::equal(ps[0], before));
}

TEST(FusedAdamW, RefusesANegativeOrNonFiniteRateOrDecay) {
  const auto ps = leaf_params(torch::kFloat);
  for (const auto& [lr, wd] : {std::pair{-1e-3, 0.0}, std::pair{double(NAN), 0.0}, std::pair{1e-3, -0.1}, std::pair{1e-3, double(INFINITY)}})
    EXPECT_THROW(make_adamw(ps, lr, wd), UsageError) << lr << " " << wd;
}

TEST(FusedAdamW, Float64ParametersUseLibTorchsAdamW) { EXPECT_EQ(max_difference(torch::kDouble), 0.0); }

}  // namespace
}  // namespace lmlab
