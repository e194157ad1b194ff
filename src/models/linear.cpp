// Pluggable linear layers (include/lmlab/models/linear.h).
#include "lmlab/models/linear.h"

#include "lmlab/core/error.h"

namespace lmlab {

LinearFactory default_linear_factory() {
  return [](int64_t in, int64_t out, bool bias) {
    return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  };
}

torch::nn::AnyModule make_linear(const LinearFactory& factory, int64_t in, int64_t out, bool bias) {
  LMLAB_CHECK(factory, UsageError, "no linear factory set for a ", in, " -> ", out,
              " layer; leave the option at its default (default_linear_factory())");
  torch::nn::AnyModule layer = factory(in, out, bias);
  LMLAB_CHECK(!layer.is_empty(), UsageError, "the linear factory returned an empty module for a ",
              in, " -> ", out, " layer; return torch::nn::AnyModule(your_module)");
  return layer;
}

void init_linear_gpt2(torch::nn::Module& layer, double std) {
  torch::NoGradGuard no_grad;
  for (auto& p : layer.named_parameters(/*recurse=*/false)) {
    if (p.key() == "weight" && p.value().dim() == 2) p.value().normal_(0.0, std);
    if (p.key() == "bias") p.value().zero_();
  }
}

}  // namespace lmlab
