// Tiny ViT (include/lmlab/models/vit.h).
#include "lmlab/models/vit.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab {

namespace {
std::string divisors(int64_t n) {
  std::string out;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return out;
}

void validate(const ViTOptions& o) {
  LMLAB_CHECK(o.image() >= 1 && o.channels() >= 1 && o.classes() >= 1 && o.layers() >= 1, UsageError,
              "ViT image, channels, classes and layers must be >= 1; got image ", o.image(),
              ", channels ", o.channels(), ", classes ", o.classes(), ", layers ", o.layers());
  LMLAB_CHECK(o.patch() >= 1 && o.image() % o.patch() == 0, UsageError, "ViT patch size ",
              o.patch(), " does not divide the image size ", o.image(),
              "; choose one of its divisors: ", divisors(o.image()));
  LMLAB_CHECK(o.heads() >= 1 && o.width() >= 1 && o.width() % o.heads() == 0, UsageError,
              "ViT width ", o.width(), " is not divisible by heads ", o.heads(),
              "; choose a width that is a multiple of the number of heads");
  LMLAB_CHECK(o.dropout() >= 0 && o.dropout() < 1, UsageError, "ViT dropout must be in [0, 1); got ",
              o.dropout(), " (0 disables it)");
  // Patch embedding, position embeddings, per block attention (4 C^2) and MLP (2 r C^2), the head.
  const double c = static_cast<double>(o.width()), patches = std::pow(o.image() / o.patch(), 2.0);
  check_model_memory("ViT", (o.channels() * std::pow(o.patch(), 2.0) + patches + 1 + o.classes()) * c +
                                o.layers() * (4.0 + 2.0 * o.mlp_ratio()) * c * c,
                     "lower model.width or model.layers");
}
}  // namespace

ViTImpl::ViTImpl(const ViTOptions& options) : options_(options) {
  validate(options);
  const int64_t c = options.width(), p = options.patch(), side = options.image() / p;
  cls_ = register_parameter("cls", torch::zeros({1, 1, c}));
  pos_ = register_parameter("pos", torch::zeros({1, side * side + 1, c}));
  patch_ = make_linear(options.linear(), options.channels() * p * p, c, /*bias=*/true, LinearRole::Patch);
  register_module("patch", patch_.ptr());
  drop_ = register_module("drop", torch::nn::Dropout(options.dropout()));
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < options.layers(); ++l) {
    blocks_.emplace_back(TransformerBlockOptions(c, options.heads())
                             .mlp_ratio(options.mlp_ratio())
                             .causal(false)
                             .dropout(options.dropout())
                             .layer(l)
                             .linear(options.linear())
                             .attention(options.attention()));
    blocks->push_back(blocks_.back());
  }
  ln_f_ = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c})));
  head_ = make_linear(options.linear(), c, options.classes(), /*bias=*/true, LinearRole::Head);
  register_module("head", head_.ptr());

  torch::NoGradGuard no_grad;
  cls_.normal_(0.0, 0.02);
  pos_.normal_(0.0, 0.02);
  init_linear_gpt2(*patch_.ptr(), 0.02);
  for (auto& block : blocks_) block->init_gpt2(options.layers());
  init_linear_gpt2(*head_.ptr(), 0.02);
}

torch::Tensor ViTImpl::forward(const torch::Tensor& images) {
  const int64_t ch = options_.channels(), s = options_.image(), p = options_.patch(), side = s / p;
  LMLAB_CHECK(images.dim() == 4 && images.size(1) == ch && images.size(2) == s && images.size(3) == s,
              UsageError, "ViT expects images [B,", ch, ",", s, ",", s, "]; got ", images.sizes());
  LMLAB_CHECK(images.is_floating_point(), UsageError, "ViT expects floating-point images; got dtype ",
              images.scalar_type(), " (convert, e.g. images.to(torch::kFloat) / 255)");
  const int64_t b = images.size(0);
  // [B,Ch,S,S] -> [B,Ch,side,P,side,P] -> [B,side,side,Ch,P,P] -> [B,N,Ch*P*P]
  auto patches = images.reshape({b, ch, side, p, side, p})
                     .permute({0, 2, 4, 1, 3, 5})
                     .reshape({b, side * side, ch * p * p});
  auto x = torch::cat({cls_.expand({b, 1, options_.width()}), patch_.forward(patches)}, 1) + pos_;
  x = drop_(x);
  for (auto& block : blocks_) x = block(x);
  return head_.forward(ln_f_(x).select(1, 0));
}

const TransformerBlock& ViTImpl::block(int64_t layer) const {
  LMLAB_CHECK(layer >= 0 && layer < options_.layers(), UsageError, "ViT layer ", layer,
              " does not exist; valid layers are 0 .. ", options_.layers() - 1);
  return blocks_[static_cast<size_t>(layer)];
}

}  // namespace lmlab
