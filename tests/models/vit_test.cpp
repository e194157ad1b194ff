// Tiny ViT: shapes, factories, freezing by name, option and input errors.
#include <gtest/gtest.h>

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"
#include "lmlab/models/vit.h"

using namespace lmlab;

namespace {
ViTOptions tiny() { return ViTOptions().layers(2).heads(2).width(8).mlp_ratio(2); }
}  // namespace

TEST(ViT, LogitShapesInFloatAndDouble) {
  ViT vit(tiny());
  EXPECT_EQ(vit(torch::rand({3, 1, 28, 28})).sizes(), (std::vector<int64_t>{3, 10}));
  vit->to(torch::kDouble);
  auto logits = vit(torch::rand({2, 1, 28, 28}, torch::kDouble));
  EXPECT_EQ(logits.scalar_type(), torch::kDouble);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10}));
  ViT rgb(tiny().image(8).channels(3).patch(4).classes(5));
  EXPECT_EQ(rgb(torch::rand({2, 3, 8, 8})).sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(rgb->named_parameters()["pos"].sizes(), (std::vector<int64_t>{1, 5, 8}));
}

TEST(ViT, ImagesInABatchAreIndependentAndPatchesAllMatter) {
  ViT vit(tiny());
  auto images = torch::rand({2, 1, 28, 28});
  auto base = vit(images);
  auto changed = images.clone();
  changed[1][0][27][27] += 1.0;  // the last pixel of the last patch of image 1
  auto logits = vit(changed);
  EXPECT_TRUE(torch::equal(logits[0], base[0]));
  EXPECT_FALSE(torch::allclose(logits[1], base[1]));
}

TEST(ViT, EveryLinearLayerComesFromTheFactory) {
  std::vector<std::vector<int64_t>> calls;
  auto factory = [&](int64_t in, int64_t out, bool bias, LinearRole) {
    calls.push_back({in, out, bias});
    return torch::nn::AnyModule(torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)));
  };
  ViT vit(tiny().layers(1).linear(factory));
  EXPECT_EQ(calls, (std::vector<std::vector<int64_t>>{
                       {49, 8, 1}, {8, 8, 1}, {8, 8, 1}, {8, 8, 1}, {8, 8, 1}, {8, 16, 1}, {16, 8, 1}, {8, 10, 1}}));
}

TEST(ViT, FreezeAllButChosenParameters) {
  ViT vit(tiny());
  const int64_t all = count_parameters(*vit);
  EXPECT_EQ(count_trainable_parameters(*vit), all);
  const int64_t head = set_trainable(*vit, [](const std::string& name) { return name.rfind("head.", 0) == 0; });
  EXPECT_EQ(head, 8 * 10 + 10);
  EXPECT_EQ(count_trainable_parameters(*vit), head);
  EXPECT_EQ(count_parameters(*vit), all);

  auto loss = vit(torch::rand({2, 1, 28, 28})).sum();
  loss.backward();
  for (const auto& p : vit->named_parameters())
    EXPECT_EQ(p.value().grad().defined(), p.key().rfind("head.", 0) == 0) << p.key();
  set_trainable(*vit, [](const std::string&) { return true; });
  EXPECT_EQ(count_trainable_parameters(*vit), all);
}

TEST(ViT, BadOptionsAndInputsAreUsageErrors) {
  try {
    ViT(tiny().patch(5));
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("patch size 5 does not divide the image size 28"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ViT(tiny().width(9)), UsageError);
  EXPECT_THROW(ViT(tiny().classes(0)), UsageError);
  EXPECT_THROW(ViT(tiny().dropout(-0.1)), UsageError);
  ViT vit(tiny());
  EXPECT_THROW(vit(torch::rand({2, 28, 28})), UsageError);
  EXPECT_THROW(vit(torch::rand({2, 3, 28, 28})), UsageError);
  EXPECT_THROW(vit(torch::rand({2, 1, 32, 32})), UsageError);
  EXPECT_THROW(vit(torch::zeros({2, 1, 28, 28}, torch::kByte)), UsageError);
  EXPECT_THROW(vit->block(5), UsageError);
}
