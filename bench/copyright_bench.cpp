// The copyright-protected training step (P10; lmlab/copyright/protected_trainer.h): steps per
// second of ProtectedTrainer::step, the step copyright.lm trains with: sample B windows of T+1
// tokens with their copyrighted mask, forward, protected_loss = CE(all) + gamma / CE(copyrighted),
// zero_grad, backward, AdamW step. Model and training settings: copyright.lm's defaults
// (experiments/copyright/lm.toml, compiled in); the text is a random byte stream of 256 documents
// of 200 bytes, a fifth of them marked (same shapes, same work as fortunes). Cases: protected 0
// (gamma = 0: plain CE through the same path) and 1 (gamma = 0.5), at 1 and 2 threads.
// Checked before timing: the initial loss of the gamma = 0 step is ln 256 within 0.1 nats, and the
// gamma term adds gamma / CE_cp to it. bench/peers/copyright_peer.py does the same step in plain
// Python PyTorch (tools/golden/models_gpt.py's GPT, the loss written out).
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench_main.h"
#include "lm_settings.h"
#include "common/lm_config.h"
#include "lmlab/copyright/protected_trainer.h"
#include "lmlab/core/config.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "registry.h"

namespace lmlab {
namespace {

constexpr uint64_t kSeed = 1234;
constexpr int kDocuments = 256, kDocumentBytes = 200;
constexpr double kGamma = 0.5;

using Settings = LMSettings;
Settings lm_settings() { return lm_settings_of("copyright.lm"); }

copyright::MarkedTextStream random_text() {
  torch::Generator g = make_generator(derive_seed(kSeed, "text"));
  const auto bytes = torch::randint(1, 256, {kDocuments, kDocumentBytes}, g, torch::kLong);
  std::vector<std::string> texts;
  std::vector<bool> marks;
  for (int i = 0; i < kDocuments; ++i) {
    const auto row = bytes[i];
    std::string text(kDocumentBytes, ' ');
    for (int j = 0; j < kDocumentBytes; ++j) text[j] = static_cast<char>(row[j].item<int64_t>());
    texts.push_back(text);
    marks.push_back(i % 5 == 0);
  }
  return copyright::MarkedTextStream(texts, marks);
}

struct Trainer {
  Trainer(const Settings& s, double gamma)
      : data(random_text()),
        trainer((seed_everything(derive_seed(kSeed, "init")), GPT(s.model)), s.train,
                copyright::ProtectedTrainingOptions().loss(copyright::ProtectedLossOptions().gamma(gamma)),
                derive_seed(kSeed, "batches")) {}
  copyright::ProtectedStep step() { return trainer.step(data); }
  copyright::MarkedTextStream data;
  copyright::ProtectedTrainer trainer;
};

void check_step() {
  const Settings s = lm_settings();
  const auto plain = Trainer(s, 0).step(), guarded = Trainer(s, kGamma).step();
  LMLAB_CHECK(std::abs(plain.loss - std::log(256.0)) < 0.1, InternalError, "initial loss ", plain.loss,
              " nats is not ln 256 within 0.1");
  LMLAB_CHECK(std::abs(guarded.loss - (guarded.ce_all + kGamma / guarded.ce_cp)) < 1e-4, InternalError,
              "the protected loss ", guarded.loss, " is not CE + gamma / CE_cp");
}

void copyright_train_step(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(1)));
  const Settings s = lm_settings();
  Trainer t(s, state.range(0) ? kGamma : 0.0);
  t.step(), t.step();
  for (auto _ : state) t.step();
  state.SetItemsProcessed(state.iterations());
  state.counters["torch_threads"] = threads;
  state.counters["parameters"] = static_cast<double>(t.trainer.model()->num_parameters());
}
BENCHMARK(copyright_train_step)
    ->ArgNames({"protected", "threads"})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({0, 2})
    ->Args({1, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) { return lmlab::run_benchmarks(argc, argv, "copyright_bench", lmlab::check_step); }
