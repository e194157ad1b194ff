// flash_forward and flash_backward (lmlab/kernels/flash_attention.h) of every SIMD level against a
// double-precision reference written as plain loops, over awkward sizes: T and S around the
// 128-row and 64-key tiles, D around the 16-float padding, causal and not, T < S.
//
// Bound. u = 2^-24. Entries are uniform in [-1, 1) and q carries 1/sqrt(D), so |s| <= sqrt(D) and
// each score is off by at most D u sqrt(D) (a sum of D products, Higham sec. 3.1). A relative error
// e in the weights e^(s - m) moves o = sum p v / sum p by at most 2 e max|v|; the exp itself
// (<= 2 ulp), the running rescaling and the sums over S keys add S u more. Allowed for o and lse:
// 4 (D^1.5 + S + 4) u. Gradients are sums over T or S terms of the same products times dO (also in
// [-1, 1)), so 4 (D^1.5 + S + T + 4) u D times max(1, |reference|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <limits>
#include <vector>

#include "lmlab/kernels/flash_attention.h"

namespace lmlab::kernels {
namespace {

constexpr double kU = 1.0 / (1 << 24);
const SimdLevel kLevels[] = {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512};

struct Shape {
  int64_t t, s, d;
  bool causal;
};
std::string str(const Shape& sh) {
  std::ostringstream os;
  os << "T=" << sh.t << " S=" << sh.s << " D=" << sh.d << (sh.causal ? " causal" : "");
  return os.str();
}

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  for (int64_t t : {1, 3, 33, 64, 129, 200})
    for (int64_t extra : {0, 5, 64})
      for (int64_t d : {1, 7, 16, 17, 64})
        for (bool causal : {false, true}) out.push_back({t, t + extra, d, causal});
  return out;
}

// One (b, h) slice, unpadded [rows x D] operands and their padded kernel layout.
struct Problem {
  Shape sh;
  int64_t sp, dp;
  std::vector<float> q, k, v, dout;             // unpadded, q unscaled
  std::vector<float> qs, kp, kt, vp, vt, dop;   // padded, qs scaled

  Problem(const Shape& shape, uint64_t seed)
      : sh(shape), sp((shape.s + kFlashKeyTile - 1) / kFlashKeyTile * kFlashKeyTile),
        dp((shape.d + kFlashHeadDimAlign - 1) / kFlashHeadDimAlign * kFlashHeadDimAlign) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    auto fill = [&](std::vector<float>& x, int64_t n) {
      x.resize(static_cast<size_t>(n));
      for (float& e : x) e = u(rng);
    };
    fill(q, sh.t * sh.d), fill(k, sh.s * sh.d), fill(v, sh.s * sh.d), fill(dout, sh.t * sh.d);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sh.d)));
    qs = pad(q, sh.t, sh.t, scale), dop = pad(dout, sh.t, sh.t, 1.f);
    kp = pad(k, sh.s, sp, 1.f), vp = pad(v, sh.s, sp, 1.f);
    kt = transpose(kp, sp), vt = transpose(vp, sp);
  }
  std::vector<float> pad(const std::vector<float>& x, int64_t rows, int64_t rows_to, float a) const {
    std::vector<float> y(static_cast<size_t>(rows_to * dp), 0.f);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < sh.d; ++j) y[i * dp + j] = a * x[i * sh.d + j];
    return y;
  }
  // [Sp x Dp] -> key tiles transposed, [Sp/64][Dp x 64]
  std::vector<float> transpose(const std::vector<float>& x, int64_t rows) const {
    std::vector<float> y(x.size());
    const int64_t tile = kFlashKeyTile;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < dp; ++j) y[i / tile * dp * tile + j * tile + i % tile] = x[i * dp + j];
    return y;
  }
  bool visible(int64_t i, int64_t j) const { return j < sh.s && (!sh.causal || j <= i + sh.s - sh.t); }
};

// Double-precision attention of one slice: o, lse and the gradients for dL/do = dout.
struct Reference {
  std::vector<double> o, lse, dq, dk, dv;
  explicit Reference(const Problem& p) {
    const auto& sh = p.sh;
    const double scale = 1.0 / std::sqrt(static_cast<double>(sh.d));
    o.assign(sh.t * sh.d, 0), lse.assign(sh.t, 0), dq.assign(sh.t * sh.d, 0);
    dk.assign(sh.s * sh.d, 0), dv.assign(sh.s * sh.d, 0);
    std::vector<double> pr(sh.s), dpr(sh.s);
    for (int64_t i = 0; i < sh.t; ++i) {
      double m = -INFINITY, l = 0;
      for (int64_t j = 0; j < sh.s; ++j) {
        double s = 0;
        for (int64_t c = 0; c < sh.d; ++c) s += double(p.q[i * sh.d + c]) * p.k[j * sh.d + c];
        pr[j] = p.visible(i, j) ? s * scale : -INFINITY;
        m = std::max(m, pr[j]);
      }
      for (int64_t j = 0; j < sh.s; ++j) l += pr[j] = std::exp(pr[j] - m);
      lse[i] = m + std::log(l);
      double delta = 0;
      for (int64_t c = 0; c < sh.d; ++c) {
        for (int64_t j = 0; j < sh.s; ++j) o[i * sh.d + c] += pr[j] / l * p.v[j * sh.d + c];
        delta += p.dout[i * sh.d + c] * o[i * sh.d + c];
      }
      for (int64_t j = 0; j < sh.s; ++j) {
        double dp = 0;
        for (int64_t c = 0; c < sh.d; ++c) dp += double(p.dout[i * sh.d + c]) * p.v[j * sh.d + c];
        const double ds = pr[j] / l * (dp - delta) * scale;
        for (int64_t c = 0; c < sh.d; ++c) {
          dq[i * sh.d + c] += ds * p.k[j * sh.d + c];
          dk[j * sh.d + c] += ds * p.q[i * sh.d + c];
          dv[j * sh.d + c] += pr[j] / l * p.dout[i * sh.d + c];
        }
      }
    }
  }
};

// |got[i, c] * a - want[i, c]| <= tol * max(1, max|want|) over the unpadded entries.
::testing::AssertionResult close(const char* what, const std::vector<float>& got, int64_t ld,
                                 float a, const std::vector<double>& want, int64_t rows, int64_t d,
                                 double tol) {
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < d; ++c) {
      const double err = std::abs(double(got[i * ld + c]) * a - want[i * d + c]);
      if (!(err <= tol * scale))
        return ::testing::AssertionFailure() << what << "[" << i << "][" << c << "] = "
                                             << got[i * ld + c] * a << ", reference "
                                             << want[i * d + c] << " (error " << err
                                             << " > bound " << tol * scale << ")";
    }
  return ::testing::AssertionSuccess();
}

class FlashAttention : public ::testing::TestWithParam<SimdLevel> {
 protected:
  void SetUp() override {
    if (GetParam() > detected_simd_level())
      GTEST_SKIP() << "this CPU lacks " << simd_level_name(GetParam());
  }
  const FlashAttentionKernels& kernels() const { return flash_attention_kernels_for(GetParam()); }
};

TEST_P(FlashAttention, ForwardMatchesDoubleReference) {
  for (const Shape& sh : shapes()) {
    const Problem p(sh, 7 + sh.t * 131 + sh.s * 17 + sh.d);
    const Reference ref(p);
    std::vector<float> o(sh.t * p.dp, NAN), lse(sh.t, NAN);
    kernels().flash_forward({p.qs.data(), p.kt.data(), p.vp.data(), o.data(), lse.data(), sh.t,
                             sh.s, p.sp, p.dp, sh.causal},
                            0, sh.t);
    const double tol = 4 * (std::pow(sh.d, 1.5) + sh.s + 4) * kU;
    ASSERT_TRUE(close("o", o, p.dp, 1.f, ref.o, sh.t, sh.d, tol)) << str(sh);
    ASSERT_TRUE(close("lse", lse, 1, 1.f, ref.lse, sh.t, 1, tol)) << str(sh);
  }
}

TEST_P(FlashAttention, ForwardRowsDoNotDependOnTheSplit) {
  const Shape sh{300, 305, 17, true};
  const Problem p(sh, 3);
  std::vector<float> whole(sh.t * p.dp), split(sh.t * p.dp), lse1(sh.t), lse2(sh.t);
  const FlashForwardArgs a{p.qs.data(), p.kt.data(), p.vp.data(), whole.data(), lse1.data(),
                           sh.t, sh.s, p.sp, p.dp, sh.causal};
  kernels().flash_forward(a, 0, sh.t);
  FlashForwardArgs b = a;
  b.o = split.data(), b.lse = lse2.data();
  const int64_t cuts[] = {0, 5, 37, 200, sh.t};  // pieces that straddle the 128-row tiles
  for (int i = 0; i + 1 < 5; ++i) kernels().flash_forward(b, cuts[i], cuts[i + 1]);
  EXPECT_EQ(whole, split);
  EXPECT_EQ(lse1, lse2);
}

TEST_P(FlashAttention, BackwardMatchesDoubleReference) {
  for (const Shape& sh : shapes()) {
    const Problem p(sh, 11 + sh.t * 131 + sh.s * 17 + sh.d);
    const Reference ref(p);
    // The kernel takes lse and delta_i = dO_i . O_i from the forward; use the reference's.
    std::vector<float> lse(ref.lse.begin(), ref.lse.end()), delta(sh.t, 0.f);
    for (int64_t i = 0; i < sh.t; ++i) {
      double s = 0;
      for (int64_t c = 0; c < sh.d; ++c) s += p.dout[i * sh.d + c] * ref.o[i * sh.d + c];
      delta[i] = static_cast<float>(s);
    }
    std::vector<float> dq(sh.t * p.dp, 0.f), dk(p.sp * p.dp, 0.f), dv(p.sp * p.dp, 0.f);
    kernels().flash_backward({p.qs.data(), p.kp.data(), p.kt.data(), p.vt.data(), p.dop.data(),
                              lse.data(), delta.data(), dq.data(), dk.data(), dv.data(), sh.t,
                              sh.s, p.sp, p.dp, sh.causal});
    const double tol = 4 * (std::pow(sh.d, 1.5) + sh.s + sh.t + 4) * sh.d * kU;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sh.d)));
    ASSERT_TRUE(close("dq", dq, p.dp, scale, ref.dq, sh.t, sh.d, tol)) << str(sh);
    ASSERT_TRUE(close("dk", dk, p.dp, 1.f, ref.dk, sh.s, sh.d, tol)) << str(sh);
    ASSERT_TRUE(close("dv", dv, p.dp, 1.f, ref.dv, sh.s, sh.d, tol)) << str(sh);
    for (int64_t j = sh.s * p.dp; j < p.sp * p.dp; ++j)
      ASSERT_TRUE(dk[j] == 0.f && dv[j] == 0.f) << "padding key rows got gradient, " << str(sh);
  }
}

// all_finite: every size around the vector widths, a NaN, +Inf or -Inf at the start, in the middle
// and in the tail; the largest and the smallest finite floats pass.
TEST_P(FlashAttention, AllFiniteFindsEveryNonFiniteEntry) {
  const auto all_finite = flash_attention_kernels_for(GetParam()).all_finite;
  for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
    std::vector<float> x(n, 1.f);
    for (int64_t i = 0; i < n; i += 3) x[i] = i % 2 ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::denorm_min();
    EXPECT_TRUE(all_finite(x.data(), n)) << n;
    for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                      -std::numeric_limits<float>::infinity()})
      for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
        if (n == 0) continue;
        std::vector<float> y = x;
        y[at] = bad;
        EXPECT_FALSE(all_finite(y.data(), n)) << "n " << n << " at " << at << " value " << bad;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, FlashAttention, ::testing::ValuesIn(kLevels),
                         [](const auto& info) { return std::string(simd_level_name(info.param)); });

}  // namespace
}  // namespace lmlab::kernels
