// The in-context learner of P9 (arXiv 2310.03331) in the set-up of Garg et al. 2022 (arXiv
// 2208.01066, sec. 2): a GPT backbone (lmlab/models/gpt.h, its blocks on continuous embeddings
// through GPT::hidden) between a linear read-in and a linear read-out.
//
//   tokens  z = (x_0, y~_0, x_1, y~_1, ..., x_{N-1})   [B,2N-1,d], y~_i = (y_i, 0, ..., 0)
//   e       = read_in(z) (x) w                         [B,2N-1,C], example i's two tokens scaled
//                                                      by its weight w_i (RICL's weights; 1 = plain)
//   h       = GPT.hidden(e)                            [B,2N-1,C] (positions, causal blocks, ln_f)
//   yhat_i  = read_out(h at x_i)                       [B,N]
// so yhat_i sees the i examples before x_i. The query's y is never fed (2N-1 tokens, not Garg's
// 2N). The GPT's token embedding (vocab 1) and head are unused: the backbone is entered through
// hidden(). Weights multiply both tokens of an example [ours: P9's reviewers say "the weights
// multiply each example's embedding"; which tokens is not stated].
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "lmlab/models/attention.h"
#include "lmlab/models/gpt.h"

namespace lmlab::icl {

struct InContextLearnerOptions {
  InContextLearnerOptions(int64_t dim, int64_t points) : dim_(dim), points_(points) {}
  // UsageError naming the value when a size is < 1, or width is not a multiple of heads.
  void validate() const;
  // "d=5 points=11 layers=2 heads=2 width=64 mlp_ratio=4": the architecture, as stored in a
  // checkpoint.
  std::string describe() const;
  TORCH_ARG(int64_t, dim);       // d >= 1
  TORCH_ARG(int64_t, points);    // the longest prompt N >= 1 (context 2N-1 tokens)
  TORCH_ARG(int64_t, layers) = 2;
  TORCH_ARG(int64_t, heads) = 2;
  TORCH_ARG(int64_t, width) = 64;   // C, a multiple of heads
  TORCH_ARG(int64_t, mlp_ratio) = 4;
  TORCH_ARG(AttentionFactory, attention) = default_attention_factory();  // e.g. prefix attention
};

// Submodules: read_in (Linear d -> C), backbone (GPT), read_out (Linear C -> 1).
class InContextLearnerImpl : public torch::nn::Module {
 public:
  explicit InContextLearnerImpl(const InContextLearnerOptions& options);

  // xs [B,N,d], ys [B,N] (ys[:, N-1] unused) -> yhat [B,N]. UsageError when d differs from the
  // learner's, N exceeds its points, or the shapes disagree; DataError on NaN/Inf prompts.
  torch::Tensor forward(const torch::Tensor& xs, const torch::Tensor& ys);
  // The same with per-example weights [N-1] (shared by the batch) or [B,N-1] multiplying the
  // embeddings of the N-1 context examples.
  torch::Tensor forward_weighted(const torch::Tensor& xs, const torch::Tensor& ys, const torch::Tensor& weights);

  const InContextLearnerOptions& options() const { return options_; }

 private:
  InContextLearnerOptions options_;
  torch::nn::Linear read_in_{nullptr}, read_out_{nullptr};
  GPT backbone_{nullptr};
};
TORCH_MODULE(InContextLearner);

}  // namespace lmlab::icl
