// privacy.dlg_text: gradient leakage from a tiny GPT on the fortunes corpus (P6, arXiv 2311.13624,
// "data can be recovered from gradients of transformer models"), with TAG (Deng et al. 2021).
//
// The victim: a byte-level GPT (untied head, model.*) early in training (train.steps LMTrainer
// steps on the training split from a seeded start). Per length T in lengths and sequence i <
// sequences: a window of T+1 bytes at a seeded random offset of the validation stream gives the
// gradient of one training step (inputs its first T bytes, next-byte targets its last T, batch 1).
// TAG (lmlab/privacy/tag.h) searches embeddings [1,T,C] and label logits [1,T,V]; the embeddings
// are decoded to the nearest row of the token table by cosine (text_recovery.h). Measured: token
// accuracy of the T decoded inputs, ROUGE-1 and ROUGE-2 F1; recovered sequences beside the
// originals (bytes escaped) in the results and the log.
// Why the head is untied [ours]: with a tied head the token table's gradient mixes the input
// lookup (which no dummy embedding reaches) with the head; untied, the table is simply not matched.
//
// Claim, threshold fixed before any run: TAG "recovers most tokens" of short sequences (published:
// 87.5% token accuracy with 16 tokens on a 3-layer transformer). "Most" read as more than half: the
// median token accuracy over the sequences of length 16 is >= 0.5 (chance is 1/256 per byte).
#include <algorithm>
#include <chrono>
#include <map>

#include "common/lm_config.h"
#include "common/stats.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/text_corpus.h"
#include "lmlab/data/tokenizer.h"
#include "lmlab/models/gpt.h"
#include "lmlab/privacy/text_metrics.h"
#include "lmlab/privacy/text_recovery.h"
#include "lmlab/train/lm_trainer.h"
#include "privacy/attack_runs.h"
#include "registry.h"

namespace lmlab {
namespace {

using namespace privacy;
constexpr int64_t kClaimLength = 16;

// Printable ASCII as is, '\\' doubled, newline and tab as \n and \t, other bytes as \xNN.
std::string escaped(const torch::Tensor& tokens) {
  std::string out;
  const auto t = tokens.to(torch::kLong).contiguous();
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t c = t.data_ptr<int64_t>()[i];
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c >= 32 && c < 127) out += static_cast<char>(c);
    else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

void check_config(const Config& cfg, const IntList& lengths) {
  check_int_range(cfg, {"model.layers", "model.heads", "sequences"}, 64);
  check_int_range(cfg, {"model.width", "model.context"}, 4096);
  check_int_range(cfg, {"train.steps", "tag.iterations"}, 1000000);
  check_positive(cfg, {"tag.lr"});
  check_positive(cfg, {"tag.alpha", "tag.clip_norm"}, /*allow_zero=*/true);
  LMLAB_CHECK(!cfg.get_bool("model.tied_head"), UsageError,
              "model.tied_head must be false: a tied head's table gradient holds the input lookup no dummy can match");
  LMLAB_CHECK(std::count(lengths.begin(), lengths.end(), kClaimLength) == 1, UsageError,
              "lengths must hold ", kClaimLength, " once (the claim's length)");
  for (const int64_t t : lengths)
    LMLAB_CHECK(t >= 1 && t <= cfg.get_int("model.context"), UsageError, "lengths entries must be in [1, model.context = ",
                cfg.get_int("model.context"), "]; got ", t);
  tag_options(cfg);
  lm_train_options(cfg, cfg.get_int("train.steps"));
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList lengths = cfg.get_int_list("lengths");
  check_config(cfg, lengths);
  const GPTOptions options = gpt_options(cfg);
  const std::vector<Document> docs = load_fortunes("", cfg.get_string_list("topics"));
  const TextBatcher train(make_token_stream(select_split(docs, TextSplit::Train)));
  const torch::Tensor val = make_token_stream(select_split(docs, TextSplit::Validation));
  LMLAB_CHECK(val.size(0) > *std::max_element(lengths.begin(), lengths.end()) + 1, DataError,
              "the validation stream (", val.size(0), " bytes) is shorter than the longest window");

  seed_everything(derive_seed(ctx.seed(), "init"));
  GPT model(options);
  LMTrainer trainer(model, lm_train_options(cfg, cfg.get_int("train.steps")), derive_seed(ctx.seed(), "batches"));
  for (int64_t step = 0; step < cfg.get_int("train.steps"); ++step) trainer.step(train);
  model->eval();
  ctx.log("victim: GPT with " + std::to_string(model->num_parameters()) + " parameters after " +
          std::to_string(cfg.get_int("train.steps")) + " training steps");
  const Victim victim = gpt_victim(model);
  const torch::Tensor table = model->named_parameters()["wte.weight"].detach();
  const TagOptions tag_opts = tag_options(cfg);

  const int64_t sequences = cfg.get_int("sequences");
  Progress bar("sequences", static_cast<int64_t>(lengths.size()) * sequences, ctx.log_sink());
  torch::Generator offsets = make_generator(derive_seed(ctx.seed(), "windows"));
  std::map<int64_t, std::vector<Row>> rows;
  for (const int64_t t : lengths)
    for (int64_t i = 0; i < sequences; ++i) {
      const int64_t start = torch::randint(val.size(0) - t - 1, {1}, offsets, torch::kLong).item<int64_t>();
      const auto tokens = val.slice(0, start, start + t + 1).unsqueeze(0);
      const std::string key = "length=" + std::to_string(t) + ",sequence=" + std::to_string(i);
      rows[t].push_back(ctx.sweep_point(key, [&] {
        const auto begin = std::chrono::steady_clock::now();
        const auto r = tag(victim, gpt_gradients(model, tokens),
                           AttackSetup({1, t, options.width()}).label_shape({1, t, options.vocab()}).seed(derive_seed(ctx.seed(), key)),
                           tag_opts);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
        const auto original = tokens.slice(1, 0, t), recovered = nearest_tokens(r.inputs, table);
        Row row{{"length", t},
                {"token_accuracy", token_accuracy(recovered, original)},
                {"rouge1", mean_rouge_f1(recovered, original, 1)},
                {"rouge2", mean_rouge_f1(recovered, original, 2)},
                {"original", escaped(original)},
                {"recovered", escaped(recovered)},
                {"diverged", r.diverged},
                {"final_objective", r.loss_history.empty() ? NAN : r.loss_history.back()}};
        ctx.metric({{"key", key}, {"seconds", seconds}, {"token_accuracy", row_number(row, "token_accuracy")}});
        return row;
      }, &bar));
      ctx.log(key + ": \"" + std::get<std::string>(row_value(rows[t].back(), "original")) + "\" -> \"" +
              std::get<std::string>(row_value(rows[t].back(), "recovered")) + "\"");
    }
  bar.finish();

  Series acc{"token accuracy", {}, {}, {}}, r1{"ROUGE-1 F1", {}, {}, {}}, r2{"ROUGE-2 F1", {}, {}, {}};
  double claim_accuracy = NAN;
  for (const int64_t t : lengths) {
    const std::string k = "T" + std::to_string(t);
    StringList pairs;
    for (const auto& r : rows[t])
      pairs.push_back(std::get<std::string>(row_value(r, "original")) + "  ->  " +
                      std::get<std::string>(row_value(r, "recovered")));
    const double a = median_of(column(rows[t], "token_accuracy"));
    ctx.result(k + ".token_accuracy_median", a);
    ctx.result(k + ".rouge1_median", median_of(column(rows[t], "rouge1")));
    ctx.result(k + ".rouge2_median", median_of(column(rows[t], "rouge2")));
    ctx.result(k + ".original_to_recovered", pairs);
    acc.x.push_back(t), acc.y.push_back(a);
    r1.x.push_back(t), r1.y.push_back(median_of(column(rows[t], "rouge1")));
    r2.x.push_back(t), r2.y.push_back(median_of(column(rows[t], "rouge2")));
    if (t == kClaimLength) claim_accuracy = a;
  }
  ctx.plot(LinePlot("TAG on a tiny GPT's gradient (fortunes, batch 1; median over sequences)", "sequence length (bytes)",
                    "score").with({acc, r1, r2}),
           "recovery_vs_length");
  ctx.claim(make_claim("tag_recovers_most_tokens",
                       "undefended TAG recovers most tokens of a 16-byte sequence from a tiny GPT's gradient: median "
                       "token accuracy >= 0.5 (published: 87.5% on a 3-layer transformer, 16 tokens)",
                       claim_accuracy, Comparator::GreaterEqual, 0.5));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(privacy, dlg_text, run,
                        ExperimentInfo("P6 gradient leakage (arXiv 2311.13624)",
                                       "TAG recovers fortunes text from a tiny GPT's gradient: token accuracy, ROUGE")
                            .sweep())

}  // namespace lmlab
