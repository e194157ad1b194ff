// 1-bit and ternary quantizers and BitLinear: exact values on hand-computed examples, the
// straight-through gradient, the full-precision twin, plugging into models, double backward,
// bad input.
#include <gtest/gtest.h>

#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/onebit/bit_linear.h"
#include "support/gradcheck.h"

using namespace lmlab;
using namespace lmlab::onebit;

namespace {
torch::Tensor tensor2(std::vector<double> v, int64_t rows) {
  return torch::tensor(v, torch::kDouble).view({rows, -1});
}
}  // namespace

TEST(Quantize, BinarySignOfZeroIsPlusOneAndScaleIsMeanAbs) {
  const auto w = tensor2({0.5, -0.25, 0.0, -1.0, 2.0, 0.75}, 2);
  const WeightPattern p = weight_pattern(w, WeightQuantOptions());
  EXPECT_TRUE(torch::equal(p.pattern, tensor2({1, -1, 1, -1, 1, 1}, 2)));
  EXPECT_DOUBLE_EQ(p.scale, (0.5 + 0.25 + 0 + 1 + 2 + 0.75) / 6);
  EXPECT_TRUE(torch::allclose(quantize_weight(w, WeightQuantOptions()), p.pattern * p.scale));
  EXPECT_DOUBLE_EQ(weight_pattern(w, WeightQuantOptions().scaled(false)).scale, 1.0);
}

TEST(Quantize, BinaryCentredSubtractsTheMean) {
  // mean = 1.0: 0.5 -> -, 1.5 -> +, 1.0 -> 0 -> +, 1.0 -> +.
  const auto w = tensor2({0.5, 1.5, 1.0, 1.0}, 2);
  EXPECT_TRUE(torch::equal(weight_pattern(w, WeightQuantOptions().centered(true)).pattern, tensor2({-1, 1, 1, 1}, 2)));
  EXPECT_TRUE(torch::equal(weight_pattern(w, WeightQuantOptions()).pattern, torch::ones({2, 2}, torch::kDouble)));
}

TEST(Quantize, TernaryRoundsByAbsMean) {
  // gamma = mean|W| + eps = 1 + 1e-5: 0.4 -> 0, 0.6 -> 1, -1.6 -> -2 -> -1, 1.4 -> 1.
  const auto w = tensor2({0.4, 0.6, -1.6, 1.4}, 2);
  const WeightPattern p = weight_pattern(w, WeightQuantOptions().quant(WeightQuant::Ternary));
  EXPECT_TRUE(torch::equal(p.pattern, tensor2({0, 1, -1, 1}, 2)));
  EXPECT_DOUBLE_EQ(p.scale, 1.0 + kQuantEps);
}

TEST(Quantize, WeightGradientIsStraightThrough) {
  const auto w = torch::randn({4, 5}, torch::kDouble).requires_grad_();
  const auto c = torch::randn({4, 5}, torch::kDouble);
  for (WeightQuant q : {WeightQuant::Binary, WeightQuant::Ternary}) {
    const auto g = torch::autograd::grad({(quantize_weight(w, WeightQuantOptions().quant(q)) * c).sum()}, {w})[0];
    EXPECT_TRUE(torch::equal(g, c)) << weight_quant_name(q);
  }
}

// The header's formula as tensor operations: step = max(amax |x|, eps) / 127 per token, then
// clip(round(x / step), -127, 127) * step.
torch::Tensor int8_reference(const torch::Tensor& x) {
  const torch::Tensor step = x.abs().amax(-1, /*keepdim=*/true).clamp_min(kQuantEps) / 127.0;
  return torch::clamp(torch::round(x / step), -127, 127) * step;
}

TEST(Quantize, Int8ActivationsEqualTheFormulaBitForBit) {
  // Entries at (k + 1/2) steps, where rounding is decided by the last bits, a zero row, and rows
  // over twelve orders of magnitude, in float and double, as a 3-D batch and a transposed view.
  torch::Tensor half_steps = (torch::arange(-127, 127) + 0.5).view({1, -1}) * (3.0 / 127.0);
  half_steps[0][253] = 3.0;
  const torch::Tensor rows = torch::cat({half_steps, torch::zeros({1, 254}, torch::kDouble),
                                         torch::randn({300, 254}, torch::kDouble) *
                                             torch::logspace(-6, 6, 300, 10.0, torch::kDouble).view({300, 1})});
  for (const auto dtype : {torch::kFloat, torch::kDouble}) {
    const torch::Tensor x = rows.to(dtype);
    EXPECT_TRUE(torch::equal(quantize_activations_int8(x), int8_reference(x))) << dtype;
    const torch::Tensor batch = x.view({2, 151, 254});
    EXPECT_TRUE(torch::equal(quantize_activations_int8(batch), int8_reference(batch))) << dtype;
    const torch::Tensor transposed = x.slice(0, 0, 64).t();
    EXPECT_TRUE(torch::equal(quantize_activations_int8(transposed), int8_reference(transposed))) << dtype;
  }
  // Half precision is quantized through float and rounded back.
  const torch::Tensor h = rows.slice(0, 0, 40).to(torch::kHalf);
  EXPECT_EQ(quantize_activations_int8(h).scalar_type(), torch::kHalf);
  EXPECT_TRUE(torch::equal(quantize_activations_int8(h), int8_reference(h.to(torch::kFloat)).to(torch::kHalf)));
  // A NaN makes its token's whole output NaN, as amax does; other tokens are untouched.
  torch::Tensor with_nan = rows.slice(0, 2, 5).to(torch::kFloat).clone();
  with_nan[1][7] = NAN;
  const torch::Tensor q = quantize_activations_int8(with_nan);
  EXPECT_TRUE(torch::isnan(q[1]).all().item<bool>());
  EXPECT_TRUE(torch::equal(q[0], int8_reference(with_nan[0])));
  EXPECT_TRUE(torch::equal(q[2], int8_reference(with_nan[2])));
}

TEST(Quantize, Int8ActivationsAreCodesTimesPerTokenScale) {
  const auto x = torch::randn({6, 33}) * torch::arange(1, 7).view({6, 1});
  const Int8Activations a = int8_activation_codes(x);
  EXPECT_EQ(a.codes.scalar_type(), torch::kInt8);
  EXPECT_EQ(a.codes.abs().amax(1).to(torch::kLong).min().item<int64_t>(), 127);  // absmax hits 127
  EXPECT_TRUE(torch::allclose(a.scale, x.abs().amax(1) / 127.0));
  EXPECT_TRUE(torch::equal(quantize_activations_int8(x), a.codes.to(torch::kFloat) * a.scale.unsqueeze(1)));
  // Rounding error at most half a step per entry.
  EXPECT_TRUE(((quantize_activations_int8(x) - x).abs() <= a.scale.unsqueeze(1) * 0.5 + 1e-7).all().item<bool>());
  // Straight-through gradient.
  const auto xr = x.to(torch::kDouble).requires_grad_();
  EXPECT_TRUE(torch::equal(torch::autograd::grad({quantize_activations_int8(xr).sum()}, {xr})[0], torch::ones_like(xr)));
}

TEST(Quantize, Int8CodesEqualTheTrainingQuantizerOnHalfStepsAndZeroRows) {
  // A row of entries (k + 1/2) steps, where rounding is decided by the last bits (its absmax 3 sets
  // step 3/127), an all-zero row (step eps/127), and random rows over six orders of magnitude.
  torch::Tensor half_steps = (torch::arange(-127, 127) + 0.5).to(torch::kFloat).view({1, -1}) * (3.0 / 127.0);
  half_steps[0][253] = 3.0;
  const torch::Tensor x = torch::cat({half_steps, torch::zeros({1, 254}),
                                      torch::randn({300, 254}) * torch::logspace(-3, 3, 300).view({300, 1})});
  const Int8Activations a = int8_activation_codes(x);
  EXPECT_TRUE(torch::equal(quantize_activations_int8(x), a.codes.to(torch::kFloat) * a.scale.unsqueeze(1)));
  EXPECT_TRUE(torch::equal(a.codes[1], torch::zeros({254}, torch::kInt8)));
}

TEST(BitLinear, StartsFromTheSameLatentWeightsAsLinear) {
  torch::manual_seed(7);
  const torch::nn::Linear fp(torch::nn::LinearOptions(5, 3));
  torch::manual_seed(7);
  const BitLinear bit(BitLinearOptions(5, 3));
  EXPECT_TRUE(torch::equal(bit->weight, fp->weight));
  EXPECT_TRUE(torch::equal(bit->bias, fp->bias));
}

TEST(BitLinear, ForwardIsLinearWithQuantizedWeightAndInputGradientMatchesFiniteDifferences) {
  for (WeightQuant q : {WeightQuant::Binary, WeightQuant::Ternary}) {
    BitLinear layer(BitLinearOptions(6, 4).weights(WeightQuantOptions().quant(q)));
    layer->to(torch::kDouble);
    const auto x = torch::randn({3, 6}, torch::kDouble).requires_grad_();
    const auto y = layer(x);
    EXPECT_TRUE(torch::allclose(y, x.matmul(layer->quantized_weight().t()) + layer->bias));
    const auto c = torch::randn({3, 4}, torch::kDouble);
    EXPECT_TRUE(test_support::gradients_match_finite_differences([&] { return (layer(x) * c).sum(); }, {x}, {"x"}))
        << weight_quant_name(q);
  }
}

TEST(BitLinear, InputNormAndInt8ActivationsMatchTheirDefinitions) {
  BitLinear layer(BitLinearOptions(8, 3).act_bits(8).input_norm(true));
  const auto x = torch::randn({2, 5, 8});
  const auto h = quantize_activations_int8(torch::layer_norm(x, {8}));
  EXPECT_TRUE(torch::allclose(layer(x), h.matmul(layer->quantized_weight().t()) + layer->bias, 1e-6, 1e-6));
}

TEST(BitLinear, FactoryTurnsEveryLinearOfAnMLPAndAGPTIntoBitLinear) {
  MLP mlp(MLPOptions(4, {8}, 2).linear(bit_linear_factory(BitLinearOptions(1, 1))));
  for (const auto& m : mlp->children()) EXPECT_NE(m->as<BitLinearImpl>(), nullptr);
  GPT gpt(GPTOptions().vocab(11).context(8).layers(1).heads(2).width(8).linear(
      bit_linear_factory(BitLinearOptions(1, 1).weights(WeightQuantOptions().quant(WeightQuant::Ternary)))));
  int bit_layers = 0;
  for (const auto& m : gpt->modules()) bit_layers += m->as<BitLinearImpl>() != nullptr;
  EXPECT_EQ(bit_layers, 6);  // attention q, k, v and output projections, MLP in and out
  EXPECT_EQ(gpt(torch::randint(0, 11, {2, 8})).sizes(), (std::vector<int64_t>{2, 8, 11}));
}

TEST(BitLinear, GPTWithBitLinearIsTwiceDifferentiable) {
  GPT gpt(GPTOptions().vocab(11).context(6).layers(1).heads(2).width(8).linear(
      bit_linear_factory(BitLinearOptions(1, 1).act_bits(8))));
  gpt->to(torch::kDouble);
  const auto idx = torch::randint(0, 11, {2, 6});
  const auto emb = gpt->embed(idx).detach().requires_grad_();
  const auto loss = torch::nn::functional::cross_entropy(gpt->forward_embeddings(emb).view({-1, 11}), idx.view({-1}));
  const auto grads = torch::autograd::grad({loss}, gpt->parameters(), {}, true, /*create_graph=*/true, true);
  torch::Tensor norm = torch::zeros({}, torch::kDouble);
  for (const auto& g : grads)
    if (g.defined()) norm = norm + g.pow(2).sum();
  const auto second = torch::autograd::grad({norm}, {emb})[0];
  EXPECT_TRUE(torch::isfinite(second).all().item<bool>());
  EXPECT_GT(second.abs().sum().item<double>(), 0.0);
}

TEST(BitLinear, BadOptionsAndShapesAreUsageErrors) {
  EXPECT_THROW(BitLinear(BitLinearOptions(4, 2).act_bits(4)), UsageError);
  EXPECT_THROW(BitLinear(BitLinearOptions(0, 2)), UsageError);
  BitLinear layer(BitLinearOptions(4, 2));
  try {
    layer(torch::randn({3, 5}));
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("last dimension must be 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(weight_quant_from_name("int4"), UsageError);
}

// Found by the `pyargs` fuzz target (what Python can pass to onebit_bit_linear and
// onebit_quantize_activations_int8): these were raw LibTorch errors, now UsageErrors.
TEST(BitLinear, EmptyAndMixedDtypeArgumentsAreUsageErrors) {
  auto options = BitLinearOptions(4, 3);
  const torch::Tensor x = torch::randn({2, 4}), w = torch::randn({3, 4}), b = torch::randn({3});
  EXPECT_THROW(quantize_activations_int8(torch::zeros({2, 0})), UsageError);
  EXPECT_THROW(bit_linear(x.to(torch::kDouble), w, b, options), UsageError);
  EXPECT_THROW(bit_linear(x, w, b.to(torch::kDouble), options), UsageError);
  EXPECT_THROW(bit_linear(x.to(torch::kLong), w, b, options), UsageError);
  EXPECT_THROW(bit_linear(x.to(torch::kLong), w.to(torch::kLong), b.to(torch::kLong), options.input_norm(true)),
               UsageError);  // found by the pyargs fuzz target: layer_norm of int64
  EXPECT_EQ(bit_linear(x, w, b, options).sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_THROW(bit_linear(torch::zeros({2, 0}), torch::zeros({3, 0}), b, options.act_bits(8)), UsageError);
}
