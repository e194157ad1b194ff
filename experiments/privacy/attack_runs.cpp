// Shared pieces of the privacy attack experiments (attack_runs.h).
#include "privacy/attack_runs.h"

#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/fashion_mnist.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/vit.h"
#include "lmlab/train/step_memory.h"

namespace lmlab {

void check_int_range(const Config& cfg, std::initializer_list<const char*> keys, int64_t limit) {
  for (const char* key : keys) {
    const int64_t v = cfg.get_int(key);
    LMLAB_CHECK(v >= 1 && v <= limit, UsageError, key, " must be in [1, ", limit, "]; got ", v);
  }
}

void check_positive(const Config& cfg, std::initializer_list<const char*> keys, bool allow_zero) {
  for (const char* key : keys) {
    const double v = cfg.get_float(key);
    LMLAB_CHECK(std::isfinite(v) && (v > 0 || (allow_zero && v == 0)), UsageError, key, " must be finite and ",
                allow_zero ? ">= 0" : "> 0", "; got ", v);
  }
}

void check_victim_config(const Config& cfg) {
  LMLAB_CHECK(cfg.get_string("model.kind") == "vit" || cfg.get_string("model.kind") == "mlp", UsageError,
              "model.kind must be vit or mlp; got '", cfg.get_string("model.kind"), "'");
  check_int_range(cfg, {"model.layers", "model.heads", "model.patch"}, 64);
  check_int_range(cfg, {"model.width", "train.batch"}, 4096);
  check_int_range(cfg, {"train.steps"}, 1000000);
  check_positive(cfg, {"train.lr"});
  LMLAB_CHECK(cfg.get_int("model.width") % cfg.get_int("model.heads") == 0, UsageError,
              "model.width must be a multiple of model.heads; got ", cfg.get_int("model.width"), " and ",
              cfg.get_int("model.heads"));
  LMLAB_CHECK(kFashionMnistSide % cfg.get_int("model.patch") == 0, UsageError, "model.patch must divide 28; got ",
              cfg.get_int("model.patch"));
}

VictimModel make_victim(const Config& cfg) {
  const int64_t batch = cfg.get_int("train.batch");
  const std::string fix = "lower train.batch or the model (model.width, model.layers)";
  if (cfg.get_string("model.kind") == "mlp") {
    MLP mlp(MLPOptions(kFashionMnistSide * kFashionMnistSide, {cfg.get_int("model.width")}, kFashionMnistClasses)
                .activation(Activation::Tanh));
    check_step_memory("the victim MLP", batch, step_bytes(mlp, batch), fix);
    return {mlp.ptr(), [mlp](const torch::Tensor& x) mutable { return mlp->forward(x.flatten(1)); }, "fc1.weight",
            "fc1.bias"};
  }
  ViT vit(ViTOptions().layers(cfg.get_int("model.layers")).heads(cfg.get_int("model.heads"))
              .width(cfg.get_int("model.width")).patch(cfg.get_int("model.patch")).classes(kFashionMnistClasses));
  check_step_memory("the victim ViT", batch, step_bytes(vit, batch), fix);
  return {vit.ptr(), [vit](const torch::Tensor& x) mutable { return vit->forward(x); }, "head.weight", "head.bias"};
}

VictimModel train_victim(const Config& cfg, const ImageDataset& train, uint64_t seed) {
  seed_everything(derive_seed(seed, "init"));
  VictimModel model = make_victim(cfg);
  torch::optim::Adam opt(model.module->parameters(), torch::optim::AdamOptions(cfg.get_float("train.lr")));
  torch::Generator gen = make_generator(derive_seed(seed, "batches"));
  for (int64_t step = 0; step < cfg.get_int("train.steps"); ++step) {
    const auto idx = torch::randint(train.size(), {cfg.get_int("train.batch")}, gen, torch::kLong);
    const auto loss = torch::cross_entropy_loss(model.forward(train.images.index_select(0, idx)),
                                                train.labels.index_select(0, idx));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  model.module->eval();
  return model;
}

privacy::DlgOptions dlg_options(const Config& cfg) {
  auto o = privacy::DlgOptions()
               .iterations(cfg.get_int("dlg.iterations"))
               .inner_iterations(cfg.get_int("dlg.inner_iterations"))
               .history(cfg.get_int("dlg.history"))
               .lr(cfg.get_float("dlg.lr"));
  o.validate();
  return o;
}

privacy::InvertingGradientsOptions ig_options(const Config& cfg) {
  auto o = privacy::InvertingGradientsOptions()
               .iterations(cfg.get_int("ig.iterations"))
               .lr(cfg.get_float("ig.lr"))
               .tv_weight(cfg.get_float("ig.tv_weight"));
  o.validate();
  return o;
}

privacy::TagOptions tag_options(const Config& cfg) {
  auto o = privacy::TagOptions()
               .iterations(cfg.get_int("tag.iterations"))
               .lr(cfg.get_float("tag.lr"))
               .alpha(cfg.get_float("tag.alpha"))
               .clip_norm(cfg.get_float("tag.clip_norm"));
  o.validate();
  return o;
}

FloatList tensor_values(const torch::Tensor& t) {
  const auto flat = t.detach().to(torch::kDouble).contiguous().view(-1);
  return FloatList(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

torch::Tensor tensor_from_values(const FloatList& values, const std::vector<int64_t>& shape) {
  return torch::tensor(values, torch::kDouble).to(torch::kFloat).view(shape);  // view checks the size
}

}  // namespace lmlab
