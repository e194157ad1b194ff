// Prompts for in-context regression (P9, arXiv 2310.03331; the set-up of Garg et al. 2022,
// arXiv 2208.01066): per prompt a task w ~ N(0, I_d) and N points x_i ~ N(0, I_d),
// y_i = <w, x_i> + noise_std * e_i, e_i ~ N(0, 1). Shapes: xs [B,N,d], ys [B,N], ws [B,d];
// the learner sees (x_0, y_0, ..., x_{N-1}) and predicts y_i at every x_i from the i examples
// before it, so the last point is the query of a prompt with K = N - 1 examples.
//
// Biased prompts [ours, our reading of P9's "biased or imbalanced prompts"] change the K context
// examples only; the query (last point) stays clean, so the error measures how far the bias pulls
// the prediction away from the task. With strength s:
//   Shift      x_i += s * u for the context, u = (1,..,1)/sqrt(d)      (covariate shift)
//   Imbalance  a share s of the context has its x reflected into <x, u> >= 0 (one half-space
//              over-represented; the reflection x - 2<x,u>u keeps x ~ N(0, I) within its half)
//   CorruptY   the first round(s K) context examples get y_i += corrupt_std * sqrt(d) * e_i
//              (fixed positions, so per-position weights can learn them; NOTES P9)
//   Duplicate  the first round(s K) context examples are copies of example 0
// Label-skewed classification prompts (y = sign<w, x>, a share p of context labels +1, achieved by
// reflecting x -> -x, which flips the label and keeps x ~ N(0, I)) come from label_skewed_prompts.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace lmlab::icl {

struct Prompts {
  torch::Tensor xs;  // [B,N,d]
  torch::Tensor ys;  // [B,N]
  torch::Tensor ws;  // [B,d] the tasks
  int64_t batch() const { return xs.size(0); }
  int64_t points() const { return xs.size(1); }
  int64_t dim() const { return xs.size(2); }
};

// UsageError unless xs is [B,N,d] and ys [B,N] with B, N, d >= 1, both finite floating tensors of
// one dtype; `what` names the caller in the message.
void check_prompts(const torch::Tensor& xs, const torch::Tensor& ys, const std::string& what);

struct RegressionPromptOptions {
  RegressionPromptOptions(int64_t dim, int64_t points) : dim_(dim), points_(points) { validate(); }
  void validate() const;  // UsageError naming the value out of range
  TORCH_ARG(int64_t, dim);          // d >= 1
  TORCH_ARG(int64_t, points);       // N >= 1 (K = N - 1 examples before the query)
  TORCH_ARG(double, noise_std) = 0.0;  // y noise, >= 0
  // Garg et al.'s dimension curriculum: only the first active_dim coordinates of x are non-zero
  // (0 = all d).
  TORCH_ARG(int64_t, active_dim) = 0;
};

// B clean prompts (float32), drawn only from `generator`.
Prompts regression_prompts(const RegressionPromptOptions& options, int64_t batch, torch::Generator generator);

enum class BiasKind { None, Shift, Imbalance, CorruptY, Duplicate };

// "none", "shift", "imbalance", "corrupt_y", "duplicate"; UsageError listing them otherwise.
BiasKind parse_bias_kind(const std::string& name);
std::string bias_kind_name(BiasKind kind);

struct PromptBias {
  explicit PromptBias(BiasKind kind = BiasKind::None, double strength = 0.0) : kind_(kind), strength_(strength) {
    validate();
  }
  void validate() const;  // UsageError naming the value out of range
  // How many context positions a CorruptY or Duplicate bias changes: the first round(strength K).
  int64_t corrupted(int64_t examples) const;
  TORCH_ARG(BiasKind, kind);
  // Shift: the shift length, >= 0; the other kinds: a share in [0, 1].
  TORCH_ARG(double, strength);
  TORCH_ARG(double, corrupt_std) = 1.0;  // CorruptY: noise std in units of sqrt(d) (y's own std), > 0
};

// Applies `bias` to the context examples (all but the last point) of clean prompts; the query and
// ws are kept. Draws only from `generator`.
Prompts bias_prompts(const Prompts& clean, const PromptBias& bias, torch::Generator generator);

// B classification prompts: y = sign<w, x> in {-1, +1}, the context's labels +1 with
// probability positive_share in [0, 1] (0.5: unbiased), the query unbiased.
Prompts label_skewed_prompts(const RegressionPromptOptions& options, int64_t batch, double positive_share,
                             torch::Generator generator);

}  // namespace lmlab::icl
