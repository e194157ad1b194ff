// foundation.text_gpt: a tiny causal GPT on the fortunes corpus, the text half of the pipeline check.
//
// Bytes (vocab 256) in windows of T tokens; AdamW with linear warm-up and cosine decay; loss in
// bits per byte (bpb). Baseline: a byte-unigram model estimated on the training split (add-one
// smoothing). Claim (issue "foundation"): quick mode reaches at most 75% of the unigram
// baseline's validation bpb; any model that uses context must, so a failure means a broken pipe.
#include <cmath>

#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/text_corpus.h"
#include "lmlab/data/tokenizer.h"
#include "lmlab/models/gpt.h"
#include "lmlab/models/weights.h"
#include "common/lm_config.h"
#include "lmlab/train/evaluate.h"
#include "lmlab/train/lm_trainer.h"
#include "registry.h"

namespace lmlab {
namespace {

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const std::vector<Document> docs = load_fortunes("", cfg.get_string_list("topics"));
  const TextBatcher train(make_token_stream(select_split(docs, TextSplit::Train)));
  const TextBatcher val(make_token_stream(select_split(docs, TextSplit::Validation)));
  const double unigram = unigram_bits_per_byte(make_token_stream(select_split(docs, TextSplit::Train)),
                                               make_token_stream(select_split(docs, TextSplit::Validation)));
  ctx.log(std::to_string(docs.size()) + " documents; train " + std::to_string(train.size()) + " bytes, validation " +
          std::to_string(val.size()) + " bytes; unigram baseline " + std::to_string(unigram) + " bpb");

  seed_everything(derive_seed(ctx.seed(), "init"));
  GPT model(gpt_options(cfg));
  ctx.log("model: " + std::to_string(model->num_parameters()) + " parameters");
  const LMTrainOptions train_options = lm_train_options(cfg, cfg.get_int("train.steps"), derive_seed(ctx.seed(), "optim"));
  LMTrainer trainer(model, train_options, derive_seed(ctx.seed(), "batches"));
  const int64_t steps = train_options.steps;
  const int64_t eval_every = cfg.get_int("train.eval_every"), eval_batches = cfg.get_int("train.eval_batches");
  LMLAB_CHECK(eval_every >= 1, UsageError, "train.eval_every must be >= 1");

  std::vector<double> at_step, train_curve, val_curve;
  double window_nats = 0;
  int64_t window_tokens = 0;
  Progress bar("train", steps, ctx.log_sink());
  for (int64_t step = 1; step <= steps; ++step) {
    const int64_t before = trainer.tokens_seen();
    const double nats = trainer.step(train);
    window_nats += nats * static_cast<double>(trainer.tokens_seen() - before);
    window_tokens += trainer.tokens_seen() - before;
    if (step % eval_every == 0 || step == steps) {
      const double train_bpb = window_nats / window_tokens / std::log(2.0);
      const double val_bpb = evaluate_bpb(model, val, eval_batches);
      at_step.push_back(step);
      train_curve.push_back(train_bpb);
      val_curve.push_back(val_bpb);
      ctx.metric({{"step", step}, {"train_bpb", train_bpb}, {"val_bpb", val_bpb}, {"lr", lm_learning_rate(train_options, step)}});
      window_nats = 0, window_tokens = 0;
      bar.advance(0, "val bpb " + std::to_string(val_bpb));
    }
    bar.advance(1);
  }
  bar.finish();

  const double val_bpb = evaluate_bpb(model, val, 0);
  ctx.log("validation: " + std::to_string(val_bpb) + " bpb (unigram " + std::to_string(unigram) + ")");
  save_weights(*model, ctx.path("model.pt"), "foundation.text_gpt");

  const ByteTokenizer tok;
  torch::Generator sample_gen = make_generator(derive_seed(ctx.seed(), "sample"));
  StringList samples;
  const torch::Tensor prompt = tok.encode(cfg.get_string("sample.prompt")).unsqueeze(0);
  for (int64_t i = 0; i < cfg.get_int("sample.count"); ++i) {
    samples.push_back(tok.decode(model->generate(prompt, cfg.get_int("sample.length"),
                                                 cfg.get_float("sample.temperature"), 0, sample_gen)[0]));
    ctx.log("sample " + std::to_string(i + 1) + ":\n" + samples.back() + "\n");
  }

  ctx.result("val_bpb", val_bpb);
  ctx.result("unigram_val_bpb", unigram);
  ctx.result("ratio_to_unigram", val_bpb / unigram);
  ctx.result("parameters", model->num_parameters());
  ctx.result("samples", samples);
  ctx.plot(LinePlot("Tiny GPT on fortunes", "step", "bits per byte").with(
                    {{"train (running)", at_step, train_curve, {}},
                     {"validation", at_step, val_curve, {}},
                     {"unigram baseline", {at_step.front(), at_step.back()}, {unigram, unigram}, {}}}),
           "bpb");
  ctx.claim(make_claim("beats_unigram", "validation bits per byte at most 75% of the byte-unigram baseline's",
                       val_bpb / unigram, Comparator::LessEqual, 0.75).shown_in("bpb"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(foundation, text_gpt, run,
                        ExperimentInfo("foundation (no paper)",
                                       "tiny byte-level GPT on the fortunes corpus, samples")
                            .section("optim")
                            .quick_seconds(44))

}  // namespace lmlab
