// save_weights / load_weights: round trips and every kind of bad file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "lmlab/core/error.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/mlp.h"
#include "lmlab/models/vit.h"
#include "lmlab/models/weights.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {
GPTOptions tiny() { return GPTOptions().vocab(13).context(6).layers(2).heads(2).width(8); }

class Weights : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lmlab_weights_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Loads and returns the DataError's message (fails the test when nothing is thrown).
  std::string load_error(torch::nn::Module& module, const std::string& file, const std::string& kind) {
    try {
      load_weights(module, file, kind);
    } catch (const DataError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected DataError";
    return "";
  }

  fs::path dir_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_F(Weights, RoundTripGivesIdenticalOutputs) {
  torch::manual_seed(1);
  GPT saved(tiny().tied_head(false));
  save_weights(*saved, path("gpt.pt"), "gpt");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);  // no temporary left

  torch::manual_seed(2);
  GPT loaded(tiny().tied_head(false));
  auto idx = torch::randint(0, 13, {2, 6}, torch::kLong);
  EXPECT_FALSE(torch::equal(loaded(idx), saved(idx)));
  load_weights(*loaded, path("gpt.pt"), "gpt");
  EXPECT_TRUE(torch::equal(loaded(idx), saved(idx)));

  ViT vit(ViTOptions().layers(1).heads(2).width(8)), vit2(ViTOptions().layers(1).heads(2).width(8));
  save_weights(*vit, path("vit.pt"), "vit");
  load_weights(*vit2, path("vit.pt"), "vit");
  auto images = torch::rand({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(vit(images), vit2(images)));
}

TEST_F(Weights, FloatWeightsLoadIntoADoubleModelAndBuffersRoundTrip) {
  GPT saved(tiny());
  save_weights(*saved, path("gpt.pt"), "gpt");
  GPT loaded(tiny());
  loaded->to(torch::kDouble);
  load_weights(*loaded, path("gpt.pt"), "gpt");
  auto idx = torch::randint(0, 13, {1, 6}, torch::kLong);
  EXPECT_TRUE(torch::allclose(loaded(idx).to(torch::kFloat), saved(idx), 1e-5, 1e-5));

  torch::nn::BatchNorm1d bn(3), bn2(3);  // a module with buffers
  bn(torch::randn({8, 3}));
  save_weights(*bn, path("bn.pt"), "bn");
  load_weights(*bn2, path("bn.pt"), "bn");
  EXPECT_TRUE(torch::equal(bn->running_mean, bn2->running_mean));
  EXPECT_TRUE(torch::equal(bn->num_batches_tracked, bn2->num_batches_tracked));
}

TEST_F(Weights, MissingAndGarbageFilesNameThePath) {
  GPT gpt(tiny());
  auto msg = load_error(*gpt, path("nope.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "nope.pt") && contains(msg, "does not exist")) << msg;

  std::ofstream(path("garbage.pt")) << "this is not a LibTorch archive";
  msg = load_error(*gpt, path("garbage.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "garbage.pt") && contains(msg, "corrupt")) << msg;

  save_weights(*gpt, path("gpt.pt"), "gpt");
  const auto size = fs::file_size(path("gpt.pt"));
  fs::resize_file(path("gpt.pt"), size / 2);
  msg = load_error(*gpt, path("gpt.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "gpt.pt") && contains(msg, "corrupt")) << msg;
}

// Floating tensors convert (a float file loads into a double model), integer ones do not: a float
// file's NaN or 2.5 would become an undefined or truncated count or packed word.
TEST_F(Weights, IntegerBuffersKeepTheirExactType) {
  struct Counter : torch::nn::Module {
    explicit Counter(const torch::Tensor& count) { register_buffer("count", count); }
  };
  Counter model(torch::tensor(int64_t{0})), stored(torch::tensor(2.5));
  save_weights(stored, path("counter.pt"), "counter");
  const auto msg = load_error(model, path("counter.pt"), "counter");
  EXPECT_TRUE(contains(msg, "'count'") && contains(msg, "long int")) << msg;
  EXPECT_EQ(model.named_buffers()["count"].item<int64_t>(), 0);
}

// A NaN weight loaded silently before (the `checkpoint` fuzz target's finding: a loaded learner
// did not read back equal to itself); it would only have shown as NaN predictions.
TEST_F(Weights, NonFiniteWeightsAreDataErrors) {
  GPT gpt(tiny()), nan_gpt(tiny());
  torch::NoGradGuard no_grad;
  nan_gpt->named_parameters()["wpe.weight"][1][2] = NAN;
  save_weights(*nan_gpt, path("nan.pt"), "gpt");
  const auto before = gpt->named_parameters()["wpe.weight"].clone();
  const auto msg = load_error(*gpt, path("nan.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "'wpe.weight'") && contains(msg, "NaN or Inf")) << msg;
  EXPECT_TRUE(torch::equal(gpt->named_parameters()["wpe.weight"], before));
}

TEST_F(Weights, WrongVersionAndKindAreReported) {
  torch::serialize::OutputArchive archive, empty;
  archive.write("format_version", c10::IValue(int64_t{99}));
  archive.write("kind", c10::IValue(std::string("gpt")));
  archive.write("parameters", empty);
  archive.save_to(path("future.pt"));
  GPT gpt(tiny());
  auto msg = load_error(*gpt, path("future.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "future.pt") && contains(msg, "format version 99") &&
              contains(msg, "reads version " + std::to_string(kWeightsFormatVersion)))
      << msg;

  torch::serialize::OutputArchive foreign;
  foreign.write("weight", torch::zeros({2}));
  foreign.save_to(path("foreign.pt"));
  msg = load_error(*gpt, path("foreign.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "no format version")) << msg;

  ViT vit(ViTOptions().layers(1).heads(2).width(8));
  save_weights(*vit, path("vit.pt"), "vit");
  msg = load_error(*gpt, path("vit.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "holds a 'vit' model, not a 'gpt' model")) << msg;
}

TEST_F(Weights, ArchitectureMismatchesNameTheFirstOffendingTensor) {
  GPT gpt(tiny());
  save_weights(*gpt, path("gpt.pt"), "gpt");

  GPT wider(tiny().width(10));
  auto msg = load_error(*wider, path("gpt.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "'wte.weight' has shape [13, 8] but the model expects [13, 10]")) << msg;

  GPT untied(tiny().tied_head(false));  // has head.weight, which the file lacks
  const auto wte = untied->named_parameters()["wte.weight"].clone();
  msg = load_error(*untied, path("gpt.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "lacks parameter 'head.weight'")) << msg;
  EXPECT_TRUE(torch::equal(untied->named_parameters()["wte.weight"], wte));  // a failed load changes nothing

  GPT shallow(tiny().layers(1));  // the file has blocks.1.*, which the model lacks
  msg = load_error(*shallow, path("gpt.pt"), "gpt");
  EXPECT_TRUE(contains(msg, "'blocks.1.")) << msg;
}

TEST_F(Weights, SaveToAnUnwritablePlaceIsADataError) {
  MLP mlp(MLPOptions(2, {3}, 1));
  EXPECT_THROW(save_weights(*mlp, path("no/such/dir/mlp.pt"), "mlp"), DataError);
  EXPECT_THROW(save_weights(*mlp, path("mlp.pt"), ""), UsageError);
}
