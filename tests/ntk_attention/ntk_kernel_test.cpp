// The NTK-Attention kernels of every SIMD level (lmlab/kernels/ntk_attention.h), called directly
// on padded slices, against the composed formula in double precision (forward, lse, and the
// gradients dq, dk, dv, du, dZ, dkappa), over awkward sizes: T, S around the 64-key
// tiles, D around the 16-float padding, causal and not, T < S.
//
// Bound: as tests/kernels/flash_attention_test.cpp, 4 (D^1.5 + S + T + 4) u D relative to
// max(1, max|reference|), u = 2^-24; the prefix term adds a D-term product (u^T Z) per output, and
// dZ a sum over T rows, both inside that bound.
#include <gtest/gtest.h>

#include <cmath>

#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/kernels/ntk_attention.h"

using namespace lmlab;
namespace kn = lmlab::kernels;

namespace {

constexpr double kU = 1.0 / (1 << 24);

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// [rows, D] -> [rows_to, Dp] float, zero-padded.
torch::Tensor pad(const torch::Tensor& x, int64_t rows_to, int64_t dp) {
  return torch::constant_pad_nd(x.to(torch::kFloat), {0, dp - x.size(1), 0, rows_to - x.size(0)}).contiguous();
}
// [Sp, Dp] -> [Sp/64][Dp x 64]
torch::Tensor tiles(const torch::Tensor& x) {
  return x.view({-1, kn::kFlashKeyTile, x.size(1)}).transpose(1, 2).contiguous();
}
float* ptr(const torch::Tensor& x) { return x.data_ptr<float>(); }

double rel_err(const torch::Tensor& got, const torch::Tensor& want) {
  return (got.to(torch::kDouble) - want).abs().max().item<double>() /
         std::max(1.0, want.abs().max().item<double>());
}

class NtkKernels : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    if (GetParam() > detected_simd_level()) GTEST_SKIP() << "this CPU lacks " << simd_level_name(GetParam());
  }
};

TEST_P(NtkKernels, ForwardAndBackwardMatchDoubleReference) {
  const auto& kernels = kn::ntk_attention_kernels_for(GetParam());
  for (int64_t t : {1, 3, 32, 33, 70})
    for (int64_t extra : {0, 5, 64})
      for (int64_t d : {1, 7, 16, 17, 64})
        for (bool causal : {false, true}) {
          const int64_t s = t + extra, sp = round_up(s, 64), dp = round_up(d, 16);
          torch::manual_seed(t * 1000 + s * 10 + d);
          const auto o64 = torch::TensorOptions().dtype(torch::kDouble);
          auto q = torch::rand({1, 1, t, d}, o64).mul(2).sub(1).requires_grad_();
          auto k = torch::rand({1, 1, s, d}, o64).mul(2).sub(1).requires_grad_();
          auto v = torch::rand({1, 1, s, d}, o64).mul(2).sub(1).requires_grad_();
          auto z = torch::rand({1, d, d}, o64).mul(2).sub(1).requires_grad_();
          auto kappa = torch::rand({1, d}, o64).requires_grad_();
          const auto g = torch::rand({1, 1, t, d}, o64).mul(2).sub(1);
          // Reference: output, lse = log(sum e^s + u^T kappa) and gradients (du through dq's phi path
          // is not separable in the composed formula, so du is checked through dq below).
          const auto out = ntk_attention::composed_ntk_attention(q, k, v, z, kappa, causal);
          const auto grads = torch::autograd::grad({out}, {q, k, v, z, kappa}, {g});
          // Kernel inputs
          const double scale = 1.0 / std::sqrt(static_cast<double>(d));
          const auto u = ntk_attention::ntk_feature_map(q.detach())[0][0];
          const auto qs = pad(q.detach()[0][0] * scale, t, dp), up = pad(u, t, dp);
          const auto kp = pad(k.detach()[0][0], sp, dp), vp = pad(v.detach()[0][0], sp, dp);
          const auto kt = tiles(kp), vt = tiles(vp);
          const auto zp = pad(z.detach()[0], dp, dp), zt = zp.t().contiguous(), kap = pad(kappa.detach(), 1, dp);
          auto o = torch::full({t, dp}, NAN), lse = torch::full({t}, NAN);
          kernels.forward({{ptr(qs), ptr(kt), ptr(vp), ptr(o), ptr(lse), t, s, sp, dp, causal}, ptr(up), ptr(zp), ptr(kap)},
                          0, t);
          const double tol = 4 * (std::pow(d, 1.5) + s + t + 4) * d * kU;
          const std::string where = "T=" + std::to_string(t) + " S=" + std::to_string(s) + " D=" + std::to_string(d) +
                                    (causal ? " causal" : "");
          ASSERT_LT(rel_err(o.narrow(1, 0, d), out.detach()[0][0]), tol) << "o " << where;
          const auto gp = pad(g[0][0], t, dp), delta = (gp * o).sum(1).contiguous();
          auto dq = torch::zeros({t, dp}), dk = torch::zeros({sp, dp}), dv = torch::zeros({sp, dp});
          auto du = torch::full({t, dp}, NAN), dz = torch::zeros({dp, dp}), dkap = torch::zeros({dp});
          kernels.backward({{ptr(qs), ptr(kp), ptr(kt), ptr(vt), ptr(gp), ptr(lse), ptr(delta), ptr(dq), ptr(dk),
                             ptr(dv), t, s, sp, dp, causal},
                            ptr(up), ptr(zt), ptr(kap), ptr(du), ptr(dz), ptr(dkap)});
          const double r = std::pow(static_cast<double>(d), 0.25);
          const auto qd = q.detach()[0][0];
          const auto phi_grad = torch::where(qd > 0, torch::ones_like(qd), torch::exp(qd / r)) / r;
          const auto dq_total = dq.narrow(1, 0, d).to(torch::kDouble) * scale + du.narrow(1, 0, d).to(torch::kDouble) * phi_grad;
          ASSERT_LT(rel_err(dq_total, grads[0][0][0]), tol) << "dq " << where;
          ASSERT_LT(rel_err(dk.narrow(0, 0, s).narrow(1, 0, d), grads[1][0][0]), tol) << "dk " << where;
          ASSERT_LT(rel_err(dv.narrow(0, 0, s).narrow(1, 0, d), grads[2][0][0]), tol) << "dv " << where;
          ASSERT_LT(rel_err(dz.narrow(0, 0, d).narrow(1, 0, d), grads[3][0]), tol) << "dZ " << where;
          ASSERT_LT(rel_err(dkap.narrow(0, 0, d), grads[4][0]), tol) << "dkappa " << where;
          ASSERT_TRUE(dz.narrow(0, d, dp - d).eq(0).all().item<bool>() && dkap.narrow(0, d, dp - d).eq(0).all().item<bool>())
              << "padding got gradient, " << where;
        }
}

INSTANTIATE_TEST_SUITE_P(Levels, NtkKernels,
                         ::testing::Values(SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512),
                         [](const auto& info) { return std::string(simd_level_name(info.param)); });

}  // namespace
