// Training-step memory estimates (include/lmlab/train/step_memory.h).
#include "lmlab/train/step_memory.h"

#include "lmlab/core/env.h"
#include "lmlab/models/attention.h"
#include "lmlab/models/parameters.h"

namespace lmlab {
double step_bytes(torch::nn::Module& model, int64_t batch, double example_floats) {
  return 16.0 * double(count_trainable_parameters(model)) + 4.0 * double(batch) * example_floats;
}

double transformer_token_floats(torch::nn::Module& model, int64_t layers, int64_t width, int64_t mlp_ratio,
                                int64_t heads, int64_t tokens) {
  int64_t map_layers = 0;  // attention cores that may keep their T x T map
  for (const auto& m : model.modules(/*include_self=*/false)) {
    const auto* core = dynamic_cast<const AttentionCore*>(m.get());
    if (core == nullptr) continue;
    const auto* softmax = dynamic_cast<const SoftmaxAttention*>(core);
    map_layers += softmax == nullptr || softmax->recording();
  }
  return double(layers) * (11.0 + 2.0 * double(mlp_ratio)) * double(width) +
         double(map_layers) * 2.0 * double(heads) * double(tokens);
}

double step_bytes(GPT& model, int64_t batch) {
  const GPTOptions& o = model->options();
  const double t = double(o.context());
  const double token = transformer_token_floats(*model, o.layers(), o.width(), o.mlp_ratio(), o.heads(), o.context()) +
                       3.0 * double(o.vocab());
  return step_bytes(*model, batch, t * token);
}

double step_bytes(ViT& model, int64_t batch) {
  const ViTOptions& o = model->options();
  const int64_t side = o.image() / o.patch(), tokens = side * side + 1;
  const double token = transformer_token_floats(*model, o.layers(), o.width(), o.mlp_ratio(), o.heads(), tokens) +
                       double(o.channels() * o.patch() * o.patch());
  return step_bytes(*model, batch, double(tokens) * token + 3.0 * double(o.classes()));
}

double step_bytes(MLP& model, int64_t batch) {
  const MLPOptions& o = model->options();
  double widths = double(o.in() + o.out());
  for (const int64_t h : o.hidden()) widths += double(h);
  return step_bytes(*model, batch, 2.0 * widths + double(o.out()));
}

void check_step_memory(const std::string& what, int64_t batch, double bytes, const std::string& fix) {
  check_memory("a training step of " + what + " on batches of " + std::to_string(batch), bytes, fix);
}

}  // namespace lmlab
