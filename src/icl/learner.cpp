// The in-context learner (include/lmlab/icl/learner.h).
#include "lmlab/icl/learner.h"

#include <sstream>

#include "lmlab/core/error.h"
#include "lmlab/icl/prompts.h"

namespace lmlab::icl {

void InContextLearnerOptions::validate() const {
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"dim", dim_}, {"points", points_},
                                    {"layers", layers_}, {"heads", heads_}, {"width", width_}, {"mlp_ratio", mlp_ratio_}})
    LMLAB_CHECK(value >= 1, UsageError, "in-context learner: ", name, " must be >= 1; got ", value);
  LMLAB_CHECK(width_ % heads_ == 0, UsageError, "in-context learner: width ", width_,
              " must be a multiple of heads ", heads_);
}

std::string InContextLearnerOptions::describe() const {
  std::ostringstream os;
  os << "d=" << dim_ << " points=" << points_ << " layers=" << layers_ << " heads=" << heads_ << " width=" << width_
     << " mlp_ratio=" << mlp_ratio_;
  return os.str();
}

InContextLearnerImpl::InContextLearnerImpl(const InContextLearnerOptions& options) : options_(options) {
  options_.validate();
  read_in_ = register_module("read_in", torch::nn::Linear(options_.dim(), options_.width()));
  backbone_ = register_module("backbone", GPT(GPTOptions()
                                                  .vocab(1)
                                                  .context(2 * options_.points() - 1)
                                                  .layers(options_.layers())
                                                  .heads(options_.heads())
                                                  .width(options_.width())
                                                  .mlp_ratio(options_.mlp_ratio())
                                                  .attention(options_.attention())));
  read_out_ = register_module("read_out", torch::nn::Linear(options_.width(), 1));
}

torch::Tensor InContextLearnerImpl::forward(const torch::Tensor& xs, const torch::Tensor& ys) {
  return forward_weighted(xs, ys, torch::Tensor());
}

torch::Tensor InContextLearnerImpl::forward_weighted(const torch::Tensor& xs, const torch::Tensor& ys,
                                                     const torch::Tensor& weights) {
  check_prompts(xs, ys, "in-context learner");
  const int64_t b = xs.size(0), n = xs.size(1), d = xs.size(2);
  LMLAB_CHECK(d == options_.dim(), UsageError, "prompts have dimension d = ", d, " but the learner was built for d = ",
              options_.dim(), "; make prompts of its dimension or use a learner trained for d = ", d);
  LMLAB_CHECK(n <= options_.points(), UsageError, "prompts have N = ", n,
              " points but the learner's context holds at most ", options_.points(),
              "; use shorter prompts or a learner trained for longer ones");
  const auto dtype = read_in_->weight.scalar_type();
  auto y_tokens = torch::zeros({b, n, d}, xs.options().dtype(dtype));
  y_tokens.select(2, 0).copy_(ys);
  // [B,N,2,d] -> [B,2N,d] interleaved, the last (query) y dropped.
  auto tokens = torch::stack({xs.to(dtype), y_tokens}, 2).reshape({b, 2 * n, d}).narrow(1, 0, 2 * n - 1);
  auto e = read_in_(tokens);
  if (weights.defined()) {
    LMLAB_CHECK((weights.dim() == 1 && weights.size(0) == n - 1) ||
                    (weights.dim() == 2 && weights.size(0) == b && weights.size(1) == n - 1),
                UsageError, "example weights must be [N-1] or [B,N-1] = [", b, ",", n - 1, "]; got ", weights.sizes());
    // one factor per token: each example's weight twice, the query's x token 1
    auto w = weights.to(dtype).expand({b, n - 1}).unsqueeze(2).expand({b, n - 1, 2}).reshape({b, 2 * (n - 1)});
    w = torch::cat({w, torch::ones({b, 1}, w.options())}, 1);
    e = e * w.unsqueeze(2);
  }
  const auto h = backbone_->hidden(e);
  return read_out_(h.slice(1, 0, 2 * n - 1, 2)).squeeze(2);
}

}  // namespace lmlab::icl
