// GPT and ViT against PyTorch references built from PyTorch's own modules
// (tools/golden/models_gpt.py, tools/golden/models_vit.py -> tests/golden/models_*.{json,bin}).
#include <gtest/gtest.h>

#include "lmlab/models/gpt.h"
#include "lmlab/models/vit.h"
#include "support/golden.h"

using namespace lmlab;

namespace {

using test_support::Golden;
using test_support::read_golden;

// Copies every model parameter from the golden tensors; each must be present with the same shape.
void load_parameters(torch::nn::Module& model, const Golden& golden) {
  torch::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& p : model.named_parameters()) {
    auto it = golden.tensors.find(p.key());
    ASSERT_NE(it, golden.tensors.end()) << "golden file lacks " << p.key();
    ASSERT_EQ(it->second.sizes(), p.value().sizes()) << p.key();
    p.value().copy_(it->second);
    ++used;
  }
  EXPECT_EQ(used + 2, golden.tensors.size()) << "golden file has tensors the model does not";  // + input, output
}

// Float32 LibTorch against the float64 PyTorch reference to 1e-5; float64 to 1e-10.
template <typename Model>
void expect_matches(Model& model, const Golden& golden, const std::string& input) {
  const auto& x = golden.tensors.at(input);
  const auto& expected = golden.tensors.at("output.logits");
  model->eval();
  torch::NoGradGuard no_grad;
  auto out = model(x).to(torch::kDouble);
  EXPECT_TRUE(torch::allclose(out, expected, 0, 1e-5)) << "max diff " << (out - expected).abs().max();
  model->to(torch::kDouble);
  out = model(x.is_floating_point() ? x.to(torch::kDouble) : x);
  EXPECT_TRUE(torch::allclose(out, expected, 0, 1e-10)) << "max diff " << (out - expected).abs().max();
}
}  // namespace

TEST(Golden, GPTMatchesPyTorchTransformerEncoderLayers) {
  const Golden golden = read_golden("models_gpt");
  const auto& c = golden.config;
  GPT gpt(GPTOptions()
              .vocab(c["vocab"])
              .context(c["context"])
              .layers(c["layers"])
              .heads(c["heads"])
              .width(c["width"])
              .mlp_ratio(c["mlp_ratio"]));
  load_parameters(*gpt, golden);
  expect_matches(gpt, golden, "input.idx");
}

TEST(Golden, ViTMatchesPyTorchConvPatchesAndTransformerEncoderLayers) {
  const Golden golden = read_golden("models_vit");
  const auto& c = golden.config;
  ViT vit(ViTOptions()
              .image(c["image"])
              .channels(c["channels"])
              .patch(c["patch"])
              .classes(c["classes"])
              .layers(c["layers"])
              .heads(c["heads"])
              .width(c["width"])
              .mlp_ratio(c["mlp_ratio"]));
  load_parameters(*vit, golden);
  expect_matches(vit, golden, "input.images");
}
