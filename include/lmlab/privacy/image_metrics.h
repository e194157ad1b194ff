// Image metrics of gradient-leakage attacks (P6, arXiv 2311.13624; the metrics of Zhu et al. 2019
// DLG and Geiping et al. 2020 Inverting Gradients): MSE, PSNR and SSIM of recovered images against
// the originals, and label accuracy.
//
// Shapes: images [N,Ch,H,W] (or [N,H,W], read as Ch = 1) floating point with values in [0,1]
// (lmlab's Fashion-MNIST loader gives pixel / 255 with no mean/std normalisation, so nothing is
// undone before measuring; a caller that normalised must map back to [0,1] first). Results are per
// image, [N] float64, so a caller reports means, medians or best-of-k explicitly.
//   MSE_n  = mean over (c,h,w) of (x - y)^2
//   PSNR_n = 10 log10(range^2 / MSE_n)  dB  (+inf when MSE_n = 0; range = 1 for [0,1] images)
//   SSIM_n (Wang, Bovik, Sheikh, Simoncelli 2004, eq. 13): per channel, a Gaussian window w
//     (size 11, sigma 1.5, normalised to sum 1) gives local mu_x = w*x, sigma_x^2 = w*x^2 - mu_x^2,
//     sigma_xy = w*(xy) - mu_x mu_y, and
//     ssim = ((2 mu_x mu_y + C1)(2 sigma_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),
//     C1 = (K1 range)^2, C2 = (K2 range)^2, K1 = 0.01, K2 = 0.03; averaged over the valid window
//     positions (no padding) and channels. A window larger than the image is a UsageError.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace lmlab::privacy {

struct SsimOptions {
  void validate() const;  // UsageError naming the bad value
  TORCH_ARG(int64_t, window) = 11;    // odd, >= 1
  TORCH_ARG(double, sigma) = 1.5;     // > 0
  TORCH_ARG(double, k1) = 0.01;       // > 0
  TORCH_ARG(double, k2) = 0.03;       // > 0
  TORCH_ARG(double, data_range) = 1.0;  // > 0
};

torch::Tensor image_mse(const torch::Tensor& images, const torch::Tensor& reference);
torch::Tensor psnr(const torch::Tensor& images, const torch::Tensor& reference, double data_range = 1.0);
torch::Tensor ssim(const torch::Tensor& images, const torch::Tensor& reference, const SsimOptions& options = {});

// Fraction of equal entries of two int64 label tensors of one shape.
double label_accuracy(const torch::Tensor& predicted, const torch::Tensor& truth);

}  // namespace lmlab::privacy
