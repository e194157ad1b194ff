// Prompts for in-context regression and their biased variants (include/lmlab/icl/prompts.h).
#include "lmlab/icl/prompts.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab::icl {

void check_prompts(const torch::Tensor& xs, const torch::Tensor& ys, const std::string& what) {
  LMLAB_CHECK(xs.defined() && ys.defined(), UsageError, what, ": xs and ys must be defined tensors");
  LMLAB_CHECK(xs.dim() == 3 && ys.dim() == 2 && xs.size(0) == ys.size(0) && xs.size(1) == ys.size(1), UsageError,
              what, ": expected xs [B,N,d] and ys [B,N]; got xs ", xs.sizes(), " and ys ", ys.sizes());
  LMLAB_CHECK(xs.numel() > 0, UsageError, what, ": empty prompts xs ", xs.sizes(), "; need B, N, d >= 1");
  LMLAB_CHECK(xs.is_floating_point() && xs.scalar_type() == ys.scalar_type(), UsageError, what,
              ": xs and ys must be floating tensors of one dtype; got ", xs.scalar_type(), " and ", ys.scalar_type());
  LMLAB_CHECK(torch::isfinite(xs).all().item<bool>() && torch::isfinite(ys).all().item<bool>(), DataError, what,
              ": the prompts hold NaN or Inf; check how they were made");
}

void RegressionPromptOptions::validate() const {
  LMLAB_CHECK(dim_ >= 1, UsageError, "prompt dimension d must be >= 1; got ", dim_);
  LMLAB_CHECK(points_ >= 1, UsageError, "prompt points N must be >= 1; got ", points_);
  LMLAB_CHECK(std::isfinite(noise_std_) && noise_std_ >= 0, UsageError, "noise_std must be finite and >= 0; got ",
              noise_std_);
  LMLAB_CHECK(active_dim_ >= 0 && active_dim_ <= dim_, UsageError, "active_dim must be in [0, d = ", dim_,
              "] (0 = all); got ", active_dim_);
}

Prompts regression_prompts(const RegressionPromptOptions& options, int64_t batch, torch::Generator generator) {
  options.validate();
  LMLAB_CHECK(batch >= 1, UsageError, "prompt batch must be >= 1; got ", batch);
  const int64_t d = options.dim(), n = options.points();
  auto xs = torch::randn({batch, n, d}, generator, torch::kFloat);
  const auto ws = torch::randn({batch, d}, generator, torch::kFloat);
  if (options.active_dim() > 0 && options.active_dim() < d) xs.narrow(2, options.active_dim(), d - options.active_dim()).zero_();
  auto ys = torch::einsum("bnd,bd->bn", {xs, ws});
  if (options.noise_std() > 0) ys = ys + options.noise_std() * torch::randn({batch, n}, generator, torch::kFloat);
  return {xs, ys, ws};
}

BiasKind parse_bias_kind(const std::string& name) {
  if (name == "none") return BiasKind::None;
  if (name == "shift") return BiasKind::Shift;
  if (name == "imbalance") return BiasKind::Imbalance;
  if (name == "corrupt_y") return BiasKind::CorruptY;
  if (name == "duplicate") return BiasKind::Duplicate;
  throw UsageError("unknown bias kind '" + name + "'; use none, shift, imbalance, corrupt_y or duplicate");
}

std::string bias_kind_name(BiasKind kind) {
  switch (kind) {
    case BiasKind::None: return "none";
    case BiasKind::Shift: return "shift";
    case BiasKind::Imbalance: return "imbalance";
    case BiasKind::CorruptY: return "corrupt_y";
    case BiasKind::Duplicate: return "duplicate";
  }
  return "none";
}

void PromptBias::validate() const {
  const bool share = kind_ != BiasKind::Shift;
  LMLAB_CHECK(std::isfinite(strength_) && strength_ >= 0 && (!share || strength_ <= 1), UsageError, "bias '",
              bias_kind_name(kind_), "': strength must be ", share ? "a share in [0, 1]" : "finite and >= 0",
              "; got ", strength_);
  LMLAB_CHECK(std::isfinite(corrupt_std_) && corrupt_std_ > 0, UsageError, "corrupt_std must be finite and > 0; got ",
              corrupt_std_);
}

int64_t PromptBias::corrupted(int64_t examples) const {
  if (kind_ != BiasKind::CorruptY && kind_ != BiasKind::Duplicate) return 0;
  return static_cast<int64_t>(std::lround(strength_ * static_cast<double>(examples)));
}

namespace {
// x - 2 <x,u> u where <x,u> < 0 (reflection into the half-space <x,u> >= 0); u = 1/sqrt(d).
torch::Tensor reflect_into_half_space(const torch::Tensor& x) {
  const double inv = 1.0 / std::sqrt(static_cast<double>(x.size(-1)));
  const auto proj = x.sum(-1, true) * inv;  // <x,u>
  return torch::where(proj < 0, x - 2 * proj * inv, x);
}
}  // namespace

Prompts bias_prompts(const Prompts& clean, const PromptBias& bias, torch::Generator generator) {
  bias.validate();
  check_prompts(clean.xs, clean.ys, "bias_prompts");
  LMLAB_CHECK(clean.ws.defined() && clean.ws.dim() == 2 && clean.ws.size(1) == clean.dim(), UsageError,
              "bias_prompts needs the tasks ws [B,d] of the prompts; got ",
              clean.ws.defined() ? clean.ws.sizes() : torch::IntArrayRef{});
  const int64_t b = clean.batch(), k = clean.points() - 1, d = clean.dim();
  Prompts out{clean.xs.clone(), clean.ys.clone(), clean.ws};
  if (k == 0 || bias.kind() == BiasKind::None) return out;
  auto cx = out.xs.narrow(1, 0, k);  // views: edits land in out
  auto cy = out.ys.narrow(1, 0, k);
  // y_i = <w, x_i> + noise_i: a bias that moves x keeps each example's noise.
  const auto context_noise = cy - torch::einsum("bnd,bd->bn", {cx, clean.ws});
  const auto relabel = [&] { cy.copy_(torch::einsum("bnd,bd->bn", {cx, clean.ws}) + context_noise); };
  switch (bias.kind()) {
    case BiasKind::Shift:
      cx.add_(bias.strength() / std::sqrt(static_cast<double>(d)));
      relabel();
      break;
    case BiasKind::Imbalance: {
      const auto pick = torch::rand({b, k, 1}, generator, cx.options()) < bias.strength();
      cx.copy_(torch::where(pick, reflect_into_half_space(cx), cx));
      relabel();
      break;
    }
    case BiasKind::CorruptY: {
      const int64_t m = bias.corrupted(k);
      if (m > 0)
        cy.narrow(1, 0, m).add_(bias.corrupt_std() * std::sqrt(static_cast<double>(d)) *
                                torch::randn({b, m}, generator, cy.options()));
      break;
    }
    case BiasKind::Duplicate: {
      const int64_t m = bias.corrupted(k);
      if (m > 1) {
        cx.narrow(1, 1, m - 1).copy_(cx.narrow(1, 0, 1).expand({b, m - 1, d}));
        cy.narrow(1, 1, m - 1).copy_(cy.narrow(1, 0, 1).expand({b, m - 1}));
      }
      break;
    }
    case BiasKind::None: break;
  }
  return out;
}

Prompts label_skewed_prompts(const RegressionPromptOptions& options, int64_t batch, double positive_share,
                             torch::Generator generator) {
  LMLAB_CHECK(std::isfinite(positive_share) && positive_share >= 0 && positive_share <= 1, UsageError,
              "positive_share must be in [0, 1] (0.5: unbiased); got ", positive_share);
  Prompts p = regression_prompts(RegressionPromptOptions(options).noise_std(0.0), batch, generator);
  const int64_t k = p.points() - 1;
  auto margin = torch::einsum("bnd,bd->bn", {p.xs, p.ws});
  if (k > 0) {
    const auto want_positive = torch::rand({batch, k}, generator, margin.options()) < positive_share;
    const auto flip = (margin.narrow(1, 0, k) >= 0) != want_positive;  // x -> -x flips the label
    auto cx = p.xs.narrow(1, 0, k);
    cx.copy_(torch::where(flip.unsqueeze(2), -cx, cx));
    margin = torch::einsum("bnd,bd->bn", {p.xs, p.ws});
  }
  p.ys = torch::where(margin >= 0, torch::ones_like(margin), -torch::ones_like(margin));
  return p;
}

}  // namespace lmlab::icl
