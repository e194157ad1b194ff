// The input as every saved state lmlab reads back: an in-context learner checkpoint (load_learner,
// through load_weights) and the state of a PluggedOptimizer (read_archive_bytes, then load) in four
// configurations that cover each base optimizer, plug-in and lr adapter. A foreign, truncated or
// corrupt file must be an lmlab::Error, never a crash, a raw LibTorch error or an allocation the
// file cannot back. What loads must work: a loaded learner saves and loads again to the same
// weights; a loaded optimizer takes a step and its state saves and loads again.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_files.h"
#include "fuzz_target.h"
#include "lmlab/core/archive.h"
#include "lmlab/core/error.h"
#include "lmlab/icl/checkpoint.h"
#include "lmlab/optim/plugged_optimizer.h"

namespace {

using lmlab::optim::PluggedOptimizer;
using lmlab::optim::PluggedOptimizerOptions;

void learner_round_trip(const std::string& path) {
  lmlab::icl::InContextLearner learner = nullptr;
  try {
    learner = lmlab::icl::load_learner(path);
  } catch (const lmlab::Error&) {
    return;
  }
  const std::string again = path + ".again.pt";
  lmlab::icl::save_learner(learner, again);
  const auto reloaded = lmlab::icl::load_learner(again);
  std::filesystem::remove(again);
  const auto a = learner->named_parameters(), b = reloaded->named_parameters();
  if (a.size() != b.size() || learner->options().describe() != reloaded->options().describe())
    lmlab::fuzz::property_broken("a loaded learner saved again reads back as another learner");
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].value().equal(b[i].value())) lmlab::fuzz::property_broken("a loaded learner saved again changed " + a[i].key());
}

// Fixed parameters with gradients, so that a loaded optimizer can take a step.
std::vector<torch::Tensor> parameters() {
  auto w = torch::linspace(-1, 1, 6).reshape({3, 2}).requires_grad_(), b = torch::full({2}, 0.5).requires_grad_();
  w.mutable_grad() = torch::full({3, 2}, 0.25), b.mutable_grad() = torch::full({2}, -0.5);
  return {w, b};
}

std::string saved_state(const PluggedOptimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void optimizer_round_trip(const std::string& bytes, const PluggedOptimizerOptions& options) {
  PluggedOptimizer optimizer(parameters(), options);
  try {
    torch::serialize::InputArchive archive;
    lmlab::read_archive_bytes(archive, bytes, "optimizer state", "pass what save() wrote");
    optimizer.load(archive);
  } catch (const lmlab::Error&) {
    return;
  }
  try {
    optimizer.step();
  } catch (const lmlab::Error&) {  // a clear refusal (a diverged step) is an answer too
  }
  PluggedOptimizer again(parameters(), options);
  torch::serialize::InputArchive archive;
  lmlab::read_archive_bytes(archive, saved_state(optimizer), "optimizer state", "");
  again.load(archive);  // what save wrote must load: an lmlab::Error here escapes and is a finding
}

const std::vector<PluggedOptimizerOptions>& configurations() {
  static const std::vector<PluggedOptimizerOptions> all = {
      PluggedOptimizerOptions().name("adamw").accel("reject").lr_adapter("dbd"),
      PluggedOptimizerOptions().name("sgd").momentum(0.9).accel("rva").lr_adapter("hd"),
      PluggedOptimizerOptions().name("adagrad").lr_adapter("rdbd"),
      PluggedOptimizerOptions().name("adam")};
  return all;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

// A small learner, and each configuration's state after two steps.
LMLAB_FUZZ_SEEDS(checkpoint) {
  torch::manual_seed(0);
  const std::string path = lmlab::fuzz::scratch_path("checkpoint_seed");
  lmlab::icl::save_learner(
      lmlab::icl::InContextLearner(lmlab::icl::InContextLearnerOptions(2, 3).layers(1).heads(1).width(4).mlp_ratio(1)), path);
  std::vector<std::string> seeds = {file_bytes(path)};
  std::filesystem::remove(path);
  for (const auto& options : configurations()) {
    PluggedOptimizer optimizer(parameters(), options);
    optimizer.step(), optimizer.step();
    seeds.push_back(saved_state(optimizer));
  }
  return seeds;
}

LMLAB_FUZZ_TARGET(checkpoint) {
  static const std::string path = lmlab::fuzz::scratch_path("checkpoint");
  lmlab::fuzz::write_input(path, data, size);
  lmlab::fuzz::check_round_trip([&] {
    learner_round_trip(path);
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (const auto& options : configurations()) optimizer_round_trip(bytes, options);
  });
  std::filesystem::remove(path);
  return 0;
}
