// Pluggable linear layers (include/lmlab/models/linear.h).
#include "lmlab/models/linear.h"

#include "lmlab/core/error.h"

namespace lmlab {

const char* linear_role_name(LinearRole role) {
  switch (role) {
    case LinearRole::AttnQ: return "attn.q";
    case LinearRole::AttnK: return "attn.k";
    case LinearRole::AttnV: return "attn.v";
    case LinearRole::AttnO: return "attn.o";
    case LinearRole::MlpHidden: return "mlp.fc";
    case LinearRole::MlpOut: return "mlp.out";
    case LinearRole::Patch: return "patch";
    case LinearRole::Head: return "head";
  }
  LMLAB_ASSERT(false, "unknown LinearRole ", static_cast<int>(role));
  return "";
}

bool is_attention_projection(LinearRole role) {
  return role == LinearRole::AttnQ || role == LinearRole::AttnK || role == LinearRole::AttnV ||
         role == LinearRole::AttnO;
}

LinearFactory default_linear_factory() {
  return [](int64_t in, int64_t out, bool bias, LinearRole) {
    return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  };
}

torch::nn::AnyModule make_linear(const LinearFactory& factory, int64_t in, int64_t out, bool bias,
                                 LinearRole role) {
  LMLAB_CHECK(factory, UsageError, "no linear factory set for the ", linear_role_name(role), " layer ", in,
              " -> ", out, "; leave the option at its default (default_linear_factory())");
  torch::nn::AnyModule layer = factory(in, out, bias, role);
  LMLAB_CHECK(!layer.is_empty(), UsageError, "the linear factory returned an empty module for the ",
              linear_role_name(role), " layer ", in, " -> ", out, "; return torch::nn::AnyModule(your_module)");
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
