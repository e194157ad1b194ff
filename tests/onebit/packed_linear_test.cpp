// PackedLinear against BitLinear's fp32 forward (the same Q(W) computed in another order), the
// stored pattern against weight_pattern, pack_model on a GPT, thread-count independence, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/weights.h"
#include "lmlab/onebit/packed_linear.h"

using namespace lmlab;
using namespace lmlab::onebit;

namespace {

// Every variant of the layer on awkward sizes (in = 67: two words per row, the second padded).
std::vector<BitLinearOptions> variants(int64_t in, int64_t out) {
  std::vector<BitLinearOptions> all;
  for (WeightQuant q : {WeightQuant::Binary, WeightQuant::Ternary})
    for (int act_bits : {0, 8})
      for (bool norm : {false, true})
        for (bool centred : {false, true}) {
          if (q == WeightQuant::Ternary && centred) continue;
          all.push_back(BitLinearOptions(in, out).act_bits(act_bits).input_norm(norm).bias(!centred).weights(
              WeightQuantOptions().quant(q).centered(centred)));
        }
  return all;
}

std::string describe(const BitLinearOptions& o) {
  return lmlab::detail::concat(weight_quant_name(o.weights().quant()), " act_bits=", o.act_bits(),
                        " norm=", o.input_norm(), " centred=", o.weights().centered());
}

// Both forwards sum K = in signed terms of the same products in fp32, in different orders; each
// sum is off by at most (K - 1) * 2^-24 * sum_k |term_k| (the standard recursive-summation bound),
// so the two differ by at most twice that, times the weight scale, plus the rounding of the scale
// and bias products (a few ulps of |y|).
torch::Tensor rounding_bound(const BitLinearImpl& layer, const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor h = x.reshape({-1, layer.options().in()});
  if (layer.options().input_norm()) h = torch::layer_norm(h, {layer.options().in()});
  if (layer.options().act_bits() == 8) h = quantize_activations_int8(h);
  const double k = static_cast<double>(layer.options().in());
  const double scale = weight_pattern(layer.weight, layer.options().weights()).scale;
  const double u = std::ldexp(1.0, -24);
  const torch::Tensor terms = h.abs().sum(1, true) * scale;                   // [rows, 1]
  const torch::Tensor bound = 2 * k * u * terms + 8 * u * y.reshape({terms.size(0), -1}).abs();
  return bound.reshape(y.sizes());
}

}  // namespace

TEST(PackedLinear, MatchesBitLinearForEveryVariantWithinTheRoundingBound) {
  torch::manual_seed(3);
  for (const BitLinearOptions& o : variants(67, 13)) {
    BitLinear layer(o);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({2, 3, 67}) * 3;
    const torch::Tensor want = layer(x);
    const torch::Tensor got = pack(*layer)(x);
    ASSERT_EQ(got.sizes(), want.sizes()) << describe(o);
    const torch::Tensor excess = (got - want).abs() - rounding_bound(*layer, x, want);
    EXPECT_LE(excess.max().item<double>(), 0.0) << describe(o) << " max |diff| "
                                                << (got - want).abs().max().item<double>();
  }
}

TEST(PackedLinear, StoresExactlyThePatternOfQW) {
  torch::manual_seed(4);
  for (const BitLinearOptions& o : variants(130, 5)) {
    BitLinear layer(o);
    PackedLinear packed = pack(*layer);
    const WeightPattern p = weight_pattern(layer->weight, o.weights());
    EXPECT_TRUE(torch::equal(packed->pattern(), p.pattern)) << describe(o);
    EXPECT_DOUBLE_EQ(packed->weight_scale(), p.scale) << describe(o);
    const int64_t planes = o.weights().quant() == WeightQuant::Binary ? 1 : 2;
    EXPECT_EQ(packed->packed_weight_bytes(), 5 * 3 * 8 * planes) << describe(o);  // ceil(130/64) = 3
  }
}

TEST(PackedLinear, ResultDoesNotDependOnTheThreadCount) {
  torch::manual_seed(5);
  // 2048 inputs: 256-byte binary rows, so the 640 outputs split into several 64 KiB chunks.
  for (WeightQuant q : {WeightQuant::Binary, WeightQuant::Ternary}) {
    BitLinear layer(BitLinearOptions(2048, 640).act_bits(8).weights(WeightQuantOptions().quant(q)));
    PackedLinear packed = pack(*layer);
    const torch::Tensor x = torch::randn({3, 2048});
    const int threads = torch::get_num_threads();
    torch::set_num_threads(1);
    const torch::Tensor one = packed(x);
    torch::set_num_threads(2);
    const torch::Tensor two = packed(x);
    torch::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(one, two)) << weight_quant_name(q);
  }
}

// The int8 path keeps its lookup-table layout of the words: words loaded into the module in place
// (as torch::load does) must reach it.
TEST(PackedLinear, WeightsLoadedInPlaceReachTheLookupTables) {
  torch::manual_seed(6);
  for (WeightQuant q : {WeightQuant::Binary, WeightQuant::Ternary}) {
    const auto o = BitLinearOptions(100, 40).act_bits(8).weights(WeightQuantOptions().quant(q));
    BitLinear first(o), second(o);
    PackedLinear a = pack(*first), b = pack(*second);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({3, 100});
    const torch::Tensor before = a(x), want = b(x);
    ASSERT_FALSE(torch::equal(before, want));
    a->named_buffers()["words"].copy_(b->named_buffers()["words"]);
    a->named_buffers()["scale"].copy_(b->named_buffers()["scale"]);
    a->named_buffers()["bias"].copy_(b->named_buffers()["bias"]);
    EXPECT_TRUE(torch::equal(a(x), want)) << weight_quant_name(q);
  }
}

TEST(PackModel, PackedGPTMatchesItsUnpackedSelfAndUnpacksExactly) {
  torch::manual_seed(6);
  GPT gpt(GPTOptions().vocab(17).context(12).layers(2).heads(2).width(32).linear(
      bit_linear_factory(BitLinearOptions(1, 1).input_norm(true).weights(WeightQuantOptions().quant(WeightQuant::Ternary)))));
  int64_t bit_linears = 0;
  for (const auto& m : gpt->modules()) bit_linears += std::dynamic_pointer_cast<BitLinearImpl>(m) != nullptr;
  ASSERT_GT(bit_linears, 0);
  torch::NoGradGuard no_grad;
  const torch::Tensor idx = torch::randint(17, {2, 12});
  const torch::Tensor dense = gpt(idx);
  EXPECT_EQ(pack_model(*gpt), bit_linears);
  const torch::Tensor packed = gpt(idx);
  // Layer by layer the two agree to fp32 rounding (test above); through the model at 1e-5 of the
  // logit scale. (With int8 activations a code on a rounding boundary may round the other way,
  // which moves the logits by about one int8 step: bench/onebit_bench.cpp measures that case.)
  EXPECT_LT((packed - dense).abs().max().item<double>(), 1e-5 * dense.abs().max().item<double>());
  EXPECT_EQ(unpack_model(*gpt), bit_linears);
  EXPECT_EQ(unpack_model(*gpt), 0);
  EXPECT_TRUE(torch::equal(gpt(idx), dense));
}

// save_packed / load_packed: the words, the scale and the bias come back exactly (the scale used
// to be a plain member, so a PackedLinear saved with save_weights lost it).
TEST(PackedFile, EveryVariantRoundTrips) {
  const std::string path = (std::filesystem::temp_directory_path() / "lmlab_packed_file_test.pt").string();
  torch::manual_seed(0);
  for (const auto& options : variants(70, 3)) {
    PackedLinear packed = pack(*BitLinear(options));
    save_packed(*packed, path);
    PackedLinear loaded = load_packed(path);
    EXPECT_EQ(loaded->weight_scale(), packed->weight_scale()) << describe(options);
    EXPECT_TRUE(torch::equal(loaded->pattern(), packed->pattern())) << describe(options);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({2, 70});
    EXPECT_TRUE(torch::equal(loaded->forward(x), packed->forward(x))) << describe(options);
  }
  std::filesystem::remove(path);
}

// What the kernels cannot use is refused: a ternary weight set in both planes, a negative or NaN
// scale, a description of another layer or one the file cannot back.
TEST(PackedFile, InvalidFilesAreDataErrors) {
  const std::string path = (std::filesystem::temp_directory_path() / "lmlab_packed_file_bad.pt").string();
  const auto error = [&path]() -> std::string {
    try {
      load_packed(path);
    } catch (const DataError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no DataError";
    return "";
  };
  const auto ternary = BitLinearOptions(70, 2).weights(WeightQuantOptions().quant(WeightQuant::Ternary));
  PackedLinear packed = pack(*BitLinear(ternary));
  const std::string kind = "onebit.packed_linear v1 in=70 out=2 ternary=1 centered=0 scaled=1 bias=1 act_bits=0 input_norm=0";
  auto words = packed->named_buffers()["words"];
  const torch::Tensor saved = words.clone();
  words[1][2] = 5, words[1][3] = 4;  // row 1, second word: weight 66 + 2 in +1, and in -1
  save_weights(*packed, path, kind);
  EXPECT_NE(error().find("ternary weight [1, 66]"), std::string::npos);
  words.copy_(saved);
  words[1][2] = int64_t{1} << 20, words[1][3] = int64_t{1} << 20;  // padding bit 64 + 20 >= 70: ignored
  save_weights(*packed, path, kind);
  EXPECT_NO_THROW(load_packed(path));
  words.copy_(saved);
  packed->named_buffers()["scale"].fill_(-1.0);
  save_weights(*packed, path, kind);
  EXPECT_NE(error().find("weight scale is -1"), std::string::npos);
  save_weights(*packed, path, "onebit.packed_linear v1 in=70 out=2 ternary=0 centered=0 scaled=1 bias=1 act_bits=0 input_norm=0");
  EXPECT_NE(error().find("'words'"), std::string::npos);
  save_weights(*packed, path, "onebit.packed_linear v1 in=4000000000 out=4000000000 ternary=1 centered=0 scaled=1 bias=1 act_bits=0 input_norm=0");
  EXPECT_NE(error().find("at most"), std::string::npos);
  save_weights(*packed, path, "gpt");
  EXPECT_NE(error().find("not a packed 1-bit layer"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(PackedLinear, NonFiniteWeightsOrBiasAreUsageErrorsNamingTheEntry) {
  BitLinear layer(BitLinearOptions(70, 4));
  {
    torch::NoGradGuard no_grad;
    layer->weight[2][66] = std::numeric_limits<float>::quiet_NaN();
    layer->weight[3][0] = std::numeric_limits<float>::infinity();
  }
  try {
    pack(*layer);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("weight of BitLinear(70 -> 4) holds 2 non-finite entries, the first at [2, 66] = nan"),
              std::string::npos) << what;
  }
  BitLinear biased(BitLinearOptions(8, 3));
  {
    torch::NoGradGuard no_grad;
    biased->bias[1] = -std::numeric_limits<float>::infinity();
  }
  EXPECT_THROW(pack(*biased), UsageError);
  EXPECT_THROW(pack_model(*biased), UsageError);
  EXPECT_FALSE(biased->is_packed());
}

TEST(PackedLinear, BadActivationsAreUsageErrors) {
  BitLinear layer(BitLinearOptions(16, 4));
  PackedLinear packed = pack(*layer);
  auto message = [&](const torch::Tensor& x) {
    try {
      packed(x);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(torch::randn({2, 15})).find("the last dimension must be 16"), std::string::npos);
  EXPECT_NE(message(torch::randn({2, 16}, torch::kDouble)).find("float32"), std::string::npos);
  EXPECT_NE(message(torch::randn({2, 16}).requires_grad_()).find("inference only"), std::string::npos);
  torch::Tensor nan = torch::randn({2, 16});
  nan[1][5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(message(nan).find("NaN or Inf"), std::string::npos);
  EXPECT_EQ(packed(torch::randn({0, 16})).sizes(), torch::IntArrayRef({0, 4}));
}
