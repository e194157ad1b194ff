// MLP: shapes, activations, layer names, the linear factory, option errors.
#include <gtest/gtest.h>

#include "lmlab/core/error.h"
#include "lmlab/models/mlp.h"

using namespace lmlab;

TEST(MLP, ShapesAndLayerNames) {
  MLP mlp(MLPOptions(5, {7, 3}, 2).activation(Activation::Tanh));
  EXPECT_EQ(mlp(torch::randn({4, 5})).sizes(), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(mlp(torch::randn({2, 3, 5})).sizes(), (std::vector<int64_t>{2, 3, 2}));
  std::vector<std::string> names;
  for (const auto& p : mlp->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias",
                                             "fc2.weight", "fc2.bias"}));
}

TEST(MLP, ComputesLinearActivationChain) {
  for (auto act : {Activation::ReLU, Activation::GELU, Activation::Tanh}) {
    MLP mlp(MLPOptions(3, {4}, 2).activation(act));
    auto x = torch::randn({5, 3});
    auto p = mlp->named_parameters();
    auto h = torch::matmul(x, p["fc0.weight"].t()) + p["fc0.bias"];
    h = act == Activation::ReLU ? torch::relu(h) : act == Activation::GELU ? torch::gelu(h) : torch::tanh(h);
    auto expected = torch::matmul(h, p["fc1.weight"].t()) + p["fc1.bias"];
    EXPECT_TRUE(torch::allclose(mlp(x), expected, 1e-6, 1e-6));
  }
  MLP linear(MLPOptions(3, {}, 2));  // no hidden layer: a single linear map
  EXPECT_EQ(linear->named_parameters().size(), 2u);
}

TEST(MLP, ActivationNames) {
  EXPECT_EQ(activation_from_name("gelu"), Activation::GELU);
  EXPECT_EQ(activation_from_name("relu"), Activation::ReLU);
  EXPECT_EQ(activation_from_name("tanh"), Activation::Tanh);
  try {
    activation_from_name("swish");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("relu, gelu, tanh"), std::string::npos) << e.what();
  }
}

TEST(MLP, UsesTheLinearFactoryForEveryLayer) {
  std::vector<std::vector<int64_t>> calls;
  std::vector<LinearRole> roles;
  auto factory = [&](int64_t in, int64_t out, bool bias, LinearRole role) {
    calls.push_back({in, out, bias});
    roles.push_back(role);
    return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  };
  MLP mlp(MLPOptions(5, {6}, 2).bias(false).linear(factory));
  EXPECT_EQ(calls, (std::vector<std::vector<int64_t>>{{5, 6, 0}, {6, 2, 0}}));
  EXPECT_EQ(roles, (std::vector<LinearRole>{LinearRole::MlpHidden, LinearRole::MlpOut}));
  EXPECT_EQ(mlp->parameters().size(), 2u);
}

TEST(MLP, BadOptionsAndInputsAreUsageErrors) {
  EXPECT_THROW(MLP(MLPOptions(0, {4}, 2)), UsageError);
  EXPECT_THROW(MLP(MLPOptions(3, {4, 0}, 2)), UsageError);
  EXPECT_THROW(MLP(MLPOptions(3, {4}, 2).linear([](int64_t, int64_t, bool, LinearRole) { return torch::nn::AnyModule(); })),
               UsageError);
  MLP mlp(MLPOptions(3, {4}, 2));
  EXPECT_THROW(mlp(torch::randn({2, 4})), UsageError);
}
