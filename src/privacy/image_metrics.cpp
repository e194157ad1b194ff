// Image metrics (include/lmlab/privacy/image_metrics.h).
#include "lmlab/privacy/image_metrics.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::privacy {
namespace {

// Both tensors as [N,Ch,H,W] float64, after checking they agree and are finite.
std::pair<torch::Tensor, torch::Tensor> as_image_pair(const torch::Tensor& images, const torch::Tensor& reference) {
  LMLAB_CHECK(images.defined() && reference.defined(), UsageError, "image metrics need two defined tensors");
  LMLAB_CHECK(images.is_floating_point() && reference.is_floating_point(), UsageError,
              "image metrics need floating-point images; got ", images.scalar_type(), " and ", reference.scalar_type());
  LMLAB_CHECK(images.sizes() == reference.sizes(), UsageError, "images ", images.sizes(),
              " and reference ", reference.sizes(), " must have one shape");
  LMLAB_CHECK(images.dim() == 3 || images.dim() == 4, UsageError,
              "images must be [N,H,W] or [N,Ch,H,W]; got ", images.sizes());
  LMLAB_CHECK(images.numel() > 0, UsageError, "image metrics need at least one pixel; got ", images.sizes());
  auto x = images.detach().to(torch::kDouble), y = reference.detach().to(torch::kDouble);
  LMLAB_CHECK(torch::isfinite(x).all().item<bool>() && torch::isfinite(y).all().item<bool>(), DataError,
              "images hold NaN or Inf; a diverged attack gives no image to measure");
  if (x.dim() == 3) x = x.unsqueeze(1), y = y.unsqueeze(1);
  return {x, y};
}

// Separable filter of each channel of [N,Ch,H,W] by the 1-D kernel k [W] in both directions, valid.
torch::Tensor filter_valid(const torch::Tensor& x, const torch::Tensor& k) {
  const int64_t n = x.size(0), ch = x.size(1), w = k.numel();
  auto flat = x.reshape({n * ch, 1, x.size(2), x.size(3)});
  flat = torch::conv2d(flat, k.view({1, 1, w, 1}));
  flat = torch::conv2d(flat, k.view({1, 1, 1, w}));
  return flat.view({n, ch, flat.size(2), flat.size(3)});
}

}  // namespace

void SsimOptions::validate() const {
  LMLAB_CHECK(window_ >= 1 && window_ % 2 == 1, UsageError, "SSIM window must be odd and >= 1; got ", window_);
  for (const auto& [name, v] : {std::pair<const char*, double>{"sigma", sigma_}, {"k1", k1_}, {"k2", k2_},
                                {"data_range", data_range_}})
    LMLAB_CHECK(std::isfinite(v) && v > 0, UsageError, "SSIM ", name, " must be finite and > 0; got ", v);
}

torch::Tensor image_mse(const torch::Tensor& images, const torch::Tensor& reference) {
  const auto [x, y] = as_image_pair(images, reference);
  return (x - y).pow(2).mean({1, 2, 3});
}

torch::Tensor psnr(const torch::Tensor& images, const torch::Tensor& reference, double data_range) {
  LMLAB_CHECK(std::isfinite(data_range) && data_range > 0, UsageError, "PSNR data_range must be finite and > 0; got ",
              data_range);
  return 10.0 * torch::log10(data_range * data_range / image_mse(images, reference));  // 1/0 = +inf
}

torch::Tensor ssim(const torch::Tensor& images, const torch::Tensor& reference, const SsimOptions& options) {
  options.validate();
  const auto [x, y] = as_image_pair(images, reference);
  const int64_t w = options.window();
  LMLAB_CHECK(x.size(2) >= w && x.size(3) >= w, UsageError, "SSIM window ", w, " is larger than the images ",
              x.size(2), "x", x.size(3), "; pass a smaller SsimOptions().window(...)");
  auto k = torch::arange(w, torch::kDouble) - static_cast<double>(w / 2);
  k = torch::exp(-k.pow(2) / (2 * options.sigma() * options.sigma()));
  k = k / k.sum();
  const double c1 = std::pow(options.k1() * options.data_range(), 2);
  const double c2 = std::pow(options.k2() * options.data_range(), 2);
  const auto mx = filter_valid(x, k), my = filter_valid(y, k);
  const auto vx = filter_valid(x * x, k) - mx * mx, vy = filter_valid(y * y, k) - my * my;
  const auto cxy = filter_valid(x * y, k) - mx * my;
  const auto map = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
  return map.mean({1, 2, 3});
}

double label_accuracy(const torch::Tensor& predicted, const torch::Tensor& truth) {
  LMLAB_CHECK(predicted.defined() && truth.defined() && predicted.sizes() == truth.sizes() && truth.numel() > 0,
              UsageError, "label accuracy needs two non-empty label tensors of one shape; got ",
              predicted.defined() ? predicted.sizes() : c10::IntArrayRef{}, " and ",
              truth.defined() ? truth.sizes() : c10::IntArrayRef{});
  LMLAB_CHECK(!predicted.is_floating_point() && !truth.is_floating_point(), UsageError,
              "label accuracy compares integer labels; take argmax of soft labels first");
  return predicted.eq(truth).to(torch::kDouble).mean().item<double>();
}

}  // namespace lmlab::privacy
