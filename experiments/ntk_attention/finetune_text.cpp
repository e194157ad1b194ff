// ntk_attention.finetune_text: NTK-Attention as a parameter-efficient fine-tuning method for a
// language model (P2, arXiv 2406.14036, adapts ChatGLM3-6B to SuperGLUE BoolQ against P-Tuning v2
// with m = 10 and LoRA with r = 8; we cannot download pretrained weights, so we pretrain a tiny
// byte-level GPT on some fortunes topics and adapt it to others).
//
// Per seed: pretrain GPT on pretrain_topics (training split) with AdamW and a cosine schedule;
// per method (lmlab/ntk_attention/adaptation.h), copy the backbone into a GPT built with the method's adapter, freeze
// all but the adapter (except "full"), train adapt.steps steps on adapt_topics' training split,
// then measure bits per byte on their validation split (never used to choose anything).
// Recorded: validation bpb (median over seeds), trainable parameters, and as the baseline the
// frozen backbone's bpb on the new topics (backbone.val_bpb: the GPT keeps its vocabulary and its
// tied output head, so there is no new head to train); wall time per step and, for "ntk", the
// mean learned kappa in metrics.jsonl. Learning rate: each method's (adapt.lr or adapt.adapter_lr),
// or with several adapt.lr_factors, the factor whose run has the lowest bpb on every
// adapt.selection_every-th training document, held out of adaptation (choose_learning_rate).
//
// Claim, threshold fixed before any run: as in finetune_vit, NTK-Attention within a stated margin
// of the best parameter-efficient baseline; here its bpb may exceed the best of LoRA and
// P-Tuning v2 by at most 2% (relative), the same 2% as the vision margin. That comparison says
// something only if adaptation moves the model by more than the margin (otherwise the frozen
// backbone itself is "within 2%"), so a second claim checks that the best of LoRA and P-Tuning v2
// improves on the frozen backbone's bpb by more than the same 2%.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include "common/lm_config.h"
#include "common/lr_choice.h"
#include "lmlab/train/evaluate.h"
#include "lmlab/train/lm_trainer.h"
#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/text_corpus.h"
#include "ntk_attention/finetune_methods.h"
#include "registry.h"
#include "common/stats.h"

namespace lmlab {
namespace {

using ntk_attention::AdaptKind;
using ntk_attention::AdaptMethod;
using ntk_attention::mean_ntk_kappa;

LMTrainOptions train_options(const Config& cfg, const std::string& stage, double lr) {
  LMTrainOptions o;
  o.batch = cfg.get_int(stage + ".batch"), o.lr = lr, o.steps = cfg.get_int(stage + ".steps");
  o.warmup = std::min<int64_t>(100, o.steps / 10);
  LMLAB_CHECK(o.batch >= 1 && o.steps >= 1 && lr > 0, UsageError, stage, ".batch and ", stage,
              ".steps must be >= 1 and the learning rate > 0");
  return o;
}

// Trains every trainable parameter of `model` for options.steps steps; returns seconds per step.
double train(GPT& model, const TextBatcher& data, const LMTrainOptions& options, uint64_t seed) {
  LMTrainer trainer(model, options, seed);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < options.steps; ++step) trainer.step(data);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(options.steps);
}

TextBatcher split_stream(const std::vector<Document>& docs, TextSplit split) {
  return TextBatcher(make_token_stream(select_split(docs, split)));
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList seeds = cfg.get_int_list("seeds");
  LMLAB_CHECK(!seeds.empty(), UsageError, "need >= 1 seed");
  const std::vector<AdaptMethod> methods = configured_methods(cfg);
  for (const AdaptMethod& m : methods)
    LMLAB_CHECK(m.kind != AdaptKind::Head, UsageError,
                "finetune_text has no \"head\" method: the GPT keeps its vocabulary and output head, so the "
                "frozen backbone is the baseline; its score is reported as backbone.val_bpb");
  const auto pre_docs = load_fortunes("", cfg.get_string_list("pretrain_topics"));
  const auto post_docs = load_fortunes("", cfg.get_string_list("adapt_topics"));
  const TextBatcher pre_train = split_stream(pre_docs, TextSplit::Train);
  // The learning-rate choice's text: every selection_every-th training document of the new topics.
  const FloatList lr_factors = cfg.get_float_list("adapt.lr_factors");
  const int64_t every = lr_factors.size() > 1 ? cfg.get_int("adapt.selection_every") : 0;
  LMLAB_CHECK(lr_factors.size() == 1 || every >= 2, UsageError, "adapt.selection_every must be >= 2 (1 would hold out all the training text)");
  const auto [adapt_docs, selection_docs] = hold_out_every(select_split(post_docs, TextSplit::Train), every);
  check_lr_factors(lr_factors, static_cast<int64_t>(selection_docs.size()), "lower adapt.selection_every");
  const TextBatcher post_train(make_token_stream(adapt_docs)), post_val = split_stream(post_docs, TextSplit::Validation);
  const std::optional<TextBatcher> selection =
      selection_docs.empty() ? std::nullopt : std::optional<TextBatcher>(make_token_stream(selection_docs));
  const int64_t eval_batches = cfg.get_int("adapt.eval_batches");
  ctx.log("pretraining on " + std::to_string(pre_train.size()) + " bytes; adapting on " + std::to_string(post_train.size()) +
          ", validating on " + std::to_string(post_val.size()));

  std::map<int64_t, GPT> backbones;  // pretrained lazily, once per seed
  std::map<int64_t, double> backbone_bpb;
  auto backbone = [&](int64_t seed) -> GPT& {
    if (!backbones.count(seed)) {
      const std::string tag = "pretrain,seed=" + std::to_string(seed);
      seed_everything(derive_seed(ctx.seed(), tag + ",init"));
      GPT model(gpt_options(cfg));
      train(model, pre_train, train_options(cfg, "pretrain", cfg.get_float("pretrain.lr")), derive_seed(ctx.seed(), tag));
      const double before = evaluate_bpb(model, post_val, eval_batches);
      ctx.log("seed " + std::to_string(seed) + ": backbone pretrained; " + std::to_string(before) + " bpb on the new topics");
      ctx.metric({{"seed", seed}, {"backbone_val_bpb", before}});
      backbone_bpb[seed] = before;
      backbones.emplace(seed, model);
    }
    return backbones.at(seed);
  };

  // The baseline: the frozen backbone as it is (a sweep point, so a resumed run keeps it).
  std::vector<double> unadapted;
  for (int64_t seed : seeds) {
    const Row row = ctx.sweep_point("backbone,seed=" + std::to_string(seed), [&] {
      backbone(seed);
      return Row{{"seed", seed}, {"val_bpb", backbone_bpb.at(seed)}};
    });
    unadapted.push_back(row_number(row, "val_bpb"));
  }
  const double backbone_median = median_of(unadapted);
  ctx.result("backbone.val_bpb", backbone_median);

  std::map<std::string, std::vector<double>> bpb;
  std::map<std::string, int64_t> trainable;
  std::map<std::string, std::vector<double>> lrs;  // chosen per seed
  for (const AdaptMethod& m : methods)
    for (int64_t seed : seeds) {
      const std::string key = "method=" + m.name + ",seed=" + std::to_string(seed);
      const double base_lr = cfg.get_float(m.frozen_backbone() ? "adapt.adapter_lr" : "adapt.lr");
      const Row row = choose_learning_rate(ctx, key, lr_factors, base_lr, [&](double lr) {
        seed_everything(derive_seed(ctx.seed(), key + ",init"));
        GPT model(with_adapter(gpt_options(cfg), m));
        const int64_t n = start_adaptation(*model, *backbone(seed), m, {});
        const double seconds = train(model, post_train, train_options(cfg, "adapt", lr), derive_seed(ctx.seed(), key));
        const double val = evaluate_bpb(model, post_val, eval_batches);
        const double selection_bpb = selection ? evaluate_bpb(model, *selection, eval_batches) : NAN;
        Row metric{{"method", m.name}, {"seed", seed}, {"lr", lr}, {"selection_bpb", selection_bpb}, {"val_bpb", val},
                   {"trainable", n}, {"seconds_per_step", seconds}};
        if (m.kind == AdaptKind::Ntk) metric.emplace_back("kappa_mean", mean_ntk_kappa(*model));
        ctx.metric(metric);
        ctx.log(key + ", lr " + std::to_string(lr) + ": " + std::to_string(val) + " bpb, " + std::to_string(n) +
                " trainable, " + std::to_string(seconds * 1e3) + " ms/step");
        return Row{{"method", m.name}, {"seed", seed}, {"val_bpb", val}, {"trainable", n}, {"selection_loss", selection_bpb}};
      });
      lrs[m.name].push_back(row_number(row, "lr"));
      bpb[m.name].push_back(row_number(row, "val_bpb"));
      trainable[m.name] = static_cast<int64_t>(row_number(row, "trainable"));
    }

  double best_peft = INFINITY, ntk = INFINITY;
  std::vector<Series> points;
  for (const AdaptMethod& m : methods) {
    const double median = median_of(bpb[m.name]);
    ctx.result(m.name + ".val_bpb", median);
    ctx.result(m.name + ".trainable_parameters", trainable[m.name]);
    if (lr_factors.size() > 1) ctx.result(m.name + ".chosen_lr", lrs[m.name]);
    if (m.peft_baseline()) best_peft = std::min(best_peft, median);
    if (m.kind == AdaptKind::Ntk) ntk = median;
    points.push_back({m.name, {static_cast<double>(trainable[m.name])}, {median}, {}});
  }
  ctx.plot(LinePlot("Tiny GPT adapted to new fortunes topics (median over seeds)", "trainable parameters", "validation bits per byte").log_x().with(points),
           "bpb_vs_parameters");
  ctx.result("ntk_over_best_peft", ntk / best_peft);
  ctx.claim(make_claim("ntk_within_2_percent_of_best_peft",
                       "NTK-Attention's validation bits per byte exceed the best of LoRA and P-Tuning v2 by at most 2% "
                       "(median over seeds; ratio - 1 < 0.02)",
                       ntk / best_peft - 1, Comparator::Less, 0.02).shown_in("bpb_vs_parameters"));
  ctx.claim(make_claim("peft_moves_beyond_the_margin",
                       "the comparison is informative: the best of LoRA and P-Tuning v2 improves on the frozen "
                       "backbone's bits per byte by more than the 2% margin (backbone / best - 1 > 0.02)",
                       backbone_median / best_peft - 1, Comparator::Greater, 0.02).shown_in("bpb_vs_parameters"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(ntk_attention, finetune_text, run,
                        ExperimentInfo("P2 NTK-Attention (arXiv 2406.14036)",
                                       "tiny GPT adapted to new fortunes topics: full, LoRA, P-Tuning v2, NTK-Attention")
                            .sweep()
                            .quick_seconds(35))

}  // namespace lmlab
