// Double backward through MLP, GPT and ViT (needed by P6's gradient-leakage attacks): the gradient
// of F = sum_p ||dL/dp||^2 (built with create_graph) with respect to inputs and parameters matches
// a central finite difference of F (support/gradcheck.h), in double precision on tiny models.
#include <gtest/gtest.h>

#include <functional>

#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/vit.h"
#include "support/gradcheck.h"

using namespace lmlab;

namespace {
// F = sum over parameters of ||dL/dp||^2, differentiable (create_graph).
torch::Tensor grad_norm_squared(torch::nn::Module& model, const std::function<torch::Tensor()>& loss) {
  auto params = model.parameters();
  auto grads = torch::autograd::grad({loss()}, params, {}, /*retain_graph=*/true, /*create_graph=*/true,
                                     /*allow_unused=*/true);
  auto f = torch::zeros({}, torch::kDouble);
  for (const auto& g : grads)
    if (g.defined()) f = f + g.pow(2).sum();
  return f;
}

// Checks dF/dt (double backward) against finite differences of F for the input and some parameters.
void check_double_backward(torch::nn::Module& model, const torch::Tensor& input,
                           const std::vector<std::string>& param_names,
                           const std::function<torch::Tensor()>& loss) {
  auto named = model.named_parameters();
  std::vector<torch::Tensor> tensors{input};
  std::vector<std::string> names{"input"};
  for (const auto& name : param_names) {
    ASSERT_TRUE(named.contains(name)) << name;
    tensors.push_back(named[name]);
    names.push_back(name);
  }
  EXPECT_TRUE(test_support::gradients_match_finite_differences([&] { return grad_norm_squared(model, loss); },
                                                          tensors, names));
}
}  // namespace

TEST(DoubleBackward, MLPMatchesFiniteDifferences) {
  for (auto act : {Activation::Tanh, Activation::GELU}) {
    torch::manual_seed(1);
    MLP mlp(MLPOptions(3, {5, 4}, 2).activation(act));
    mlp->to(torch::kDouble);
    auto x = torch::randn({4, 3}, torch::kDouble).requires_grad_();
    auto y = torch::randn({4, 2}, torch::kDouble);
    check_double_backward(*mlp, x, {"fc0.weight", "fc1.bias", "fc2.weight"},
                          [&] { return (mlp(x) - y).pow(2).mean(); });
  }
}

TEST(DoubleBackward, GPTMatchesFiniteDifferences) {
  torch::manual_seed(2);
  GPT gpt(GPTOptions().vocab(7).context(4).layers(2).heads(2).width(4).mlp_ratio(2));
  gpt->to(torch::kDouble);
  auto tokens = torch::randint(0, 7, {2, 4}, torch::kLong), targets = torch::randint(0, 7, {2, 4}, torch::kLong);
  // Gradient-leakage attacks on text optimise input embeddings, so the input here is wte[tokens].
  auto emb = gpt->embed(tokens).detach().requires_grad_();
  check_double_backward(*gpt, emb,
                        {"wte.weight", "wpe.weight", "blocks.0.ln1.weight", "blocks.0.attn.q.weight",
                         "blocks.1.attn.v.bias", "blocks.1.mlp.fc0.weight", "ln_f.bias"},
                        [&] { return lm_loss(gpt->forward_embeddings(emb), targets).loss; });
}

TEST(DoubleBackward, ViTMatchesFiniteDifferences) {
  torch::manual_seed(3);
  ViT vit(ViTOptions().image(4).patch(2).classes(3).layers(1).heads(2).width(4).mlp_ratio(2));
  vit->to(torch::kDouble);
  auto images = torch::rand({2, 1, 4, 4}, torch::kDouble).requires_grad_();
  auto labels = torch::tensor({0, 2}, torch::kLong);
  check_double_backward(*vit, images, {"cls", "pos", "patch.weight", "blocks.0.attn.k.weight", "head.weight"},
                        [&] { return torch::nn::functional::cross_entropy(vit(images), labels); });
}
