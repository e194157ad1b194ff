// Image metrics (lmlab/privacy/image_metrics.h) against hand-computed values and a brute-force
// SSIM written pixel by pixel from Wang et al. 2004's definition.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "lmlab/privacy/image_metrics.h"
#include "support/usage_error.h"

namespace lmlab::privacy {
namespace {

TEST(ImageMetrics, MseAndPsnrMatchHandValues) {
  // Image 0: every pixel off by 0.1 -> MSE 0.01, PSNR 20 dB. Image 1: one of four pixels off by
  // 0.5 -> MSE 0.0625, PSNR 10 log10(16) = 12.0412 dB.
  auto ref = torch::zeros({2, 1, 2, 2});
  auto x = ref.clone();
  x[0].fill_(0.1);
  x[1][0][0][0] = 0.5;
  const auto mse = image_mse(x, ref);
  EXPECT_NEAR(mse[0].item<double>(), 0.01, 1e-9);
  EXPECT_NEAR(mse[1].item<double>(), 0.0625, 1e-9);
  const auto p = psnr(x, ref);
  EXPECT_NEAR(p[0].item<double>(), 20.0, 1e-6);
  EXPECT_NEAR(p[1].item<double>(), 10 * std::log10(16.0), 1e-6);
  EXPECT_TRUE(std::isinf(psnr(ref, ref)[0].item<double>()));
  // data_range 2 adds 20 log10(2) dB.
  EXPECT_NEAR(psnr(x, ref, 2.0)[0].item<double>(), 20.0 + 20 * std::log10(2.0), 1e-6);
  // [N,H,W] reads as one channel.
  EXPECT_NEAR(psnr(x.squeeze(1), ref.squeeze(1))[0].item<double>(), 20.0, 1e-6);
}

TEST(ImageMetrics, SsimOfConstantImagesIsTheLuminanceTerm) {
  // Constant images a and b: sigma terms vanish, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
  const double a = 0.2, b = 0.7, c1 = 1e-4;
  const auto x = torch::full({1, 1, 12, 12}, a), y = torch::full({1, 1, 12, 12}, b);
  EXPECT_NEAR(ssim(x, y)[0].item<double>(), (2 * a * b + c1) / (a * a + b * b + c1), 1e-6);
  EXPECT_NEAR(ssim(x, x)[0].item<double>(), 1.0, 1e-9);
}

// SSIM at every valid window position, weights w(i,j) = g(i) g(j) / (sum g)^2 written out.
double brute_force_ssim(const torch::Tensor& x, const torch::Tensor& y, int64_t win, double sigma) {
  const auto xd = x.to(torch::kDouble), yd = y.to(torch::kDouble);
  const auto X = xd.accessor<double, 2>(), Y = yd.accessor<double, 2>();
  std::vector<double> g(win);
  double gs = 0;
  for (int64_t i = 0; i < win; ++i) gs += g[i] = std::exp(-std::pow(i - win / 2, 2) / (2 * sigma * sigma));
  const double c1 = 1e-4, c2 = 9e-4;
  double total = 0;
  int64_t count = 0;
  for (int64_t r = 0; r + win <= x.size(0); ++r)
    for (int64_t c = 0; c + win <= x.size(1); ++c) {
      double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (int64_t i = 0; i < win; ++i)
        for (int64_t j = 0; j < win; ++j) {
          const double w = g[i] * g[j] / (gs * gs), u = X[r + i][c + j], v = Y[r + i][c + j];
          mx += w * u, my += w * v, xx += w * u * u, yy += w * v * v, xy += w * u * v;
        }
      const double vx = xx - mx * mx, vy = yy - my * my, cxy = xy - mx * my;
      total += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      ++count;
    }
  return total / count;
}

TEST(ImageMetrics, SsimMatchesBruteForceDefinition) {
  torch::manual_seed(0);
  const auto ref = torch::rand({2, 2, 16, 14});
  const auto x = (ref + 0.2 * torch::randn({2, 2, 16, 14})).clamp(0, 1);
  const auto s = ssim(x, ref);
  for (int64_t n = 0; n < 2; ++n) {
    const double expect = 0.5 * (brute_force_ssim(x[n][0], ref[n][0], 11, 1.5) + brute_force_ssim(x[n][1], ref[n][1], 11, 1.5));
    EXPECT_NEAR(s[n].item<double>(), expect, 1e-9);
    EXPECT_LT(s[n].item<double>(), 0.99);  // noisy, so clearly below 1
  }
  // A smaller window, to cover the options.
  EXPECT_NEAR(ssim(x, ref, SsimOptions().window(7).sigma(1.0))[0].item<double>(),
              0.5 * (brute_force_ssim(x[0][0], ref[0][0], 7, 1.0) + brute_force_ssim(x[0][1], ref[0][1], 7, 1.0)), 1e-9);
}

TEST(ImageMetrics, LabelAccuracyCountsMatches) {
  EXPECT_DOUBLE_EQ(label_accuracy(torch::tensor({1, 2, 3, 4}), torch::tensor({1, 0, 3, 0})), 0.5);
}

TEST(ImageMetrics, BadInputIsAUsageOrDataError) {
  const auto a = torch::rand({1, 1, 8, 8});
  EXPECT_MENTIONS(test_support::usage_error([&] { image_mse(a, torch::rand({1, 1, 8, 9})); }), "one shape");
  EXPECT_MENTIONS(test_support::usage_error([&] { ssim(a, a); }), "larger than the images");
  EXPECT_MENTIONS(test_support::usage_error([&] { ssim(a, a, SsimOptions().window(4)); }), "odd");
  EXPECT_MENTIONS(test_support::usage_error([&] { psnr(a, a, 0.0); }), "data_range");
  EXPECT_MENTIONS(test_support::usage_error([&] { image_mse(torch::rand({8}), torch::rand({8})); }), "[N,H,W]");
  EXPECT_MENTIONS(test_support::usage_error([&] { label_accuracy(torch::rand({2}), torch::rand({2})); }), "argmax");
  auto nan = a.clone();
  nan[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(psnr(nan, a), DataError);
}

}  // namespace
}  // namespace lmlab::privacy
