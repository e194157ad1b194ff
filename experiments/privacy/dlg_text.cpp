// privacy.dlg_text: gradient leakage from a tiny GPT on the fortunes corpus (P6, arXiv 2311.13624,
// "data can be recovered from gradients of transformer models"), with TAG (Deng et al. 2021).
//
// The victim: a byte-level GPT (untied head, model.*) early in training (train.steps LMTrainer
// steps on the training split from a seeded start). Per length T in lengths and sequence i <
// sequences: a window of T+1 bytes at a seeded random offset of the validation stream gives the
// gradient of one training step (inputs its first T bytes, next-byte targets its last T, batch 1).
// Methods: "tag" (lmlab/privacy/tag.h as published: embeddings [1,T,C] and free label logits
// [1,T,V] searched) and "tag_causal" ([ours]: the same with the next-token labels tied to the
// searched embeddings, causal_label_map in text_recovery.h). Both start the embeddings at the
// token table's std and decode each position to the nearest token by cosine among the tokens whose
// table-gradient row is non-zero (the batch's token set, as breaching's TAG replay recovers it).
// Measured: token accuracy of the T decoded inputs, ROUGE-1 and ROUGE-2 F1; recovered sequences
// beside the originals (bytes escaped) in the results and the log.
// Why the head is untied [ours]: with a tied head the token table's gradient mixes the input
// lookup (which no dummy embedding reaches) with the head; untied, the table is simply not matched.
//
// Claims, threshold fixed before any run, one per method: TAG "recovers most tokens" of short
// sequences (published: 87.5% token accuracy with 16 tokens on a 3-layer transformer). "Most" read
// as more than half: the median token accuracy over the sequences of length 16 is >= 0.5.
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

const StringList kMethods = {"tag", "tag_causal"};

void check_config(const Config& cfg, const IntList& lengths, const StringList& methods) {
  LMLAB_CHECK(!methods.empty(), UsageError, "methods must name at least one of tag, tag_causal");
  for (const auto& m : methods)
    LMLAB_CHECK(std::find(kMethods.begin(), kMethods.end(), m) != kMethods.end(), UsageError, "unknown method '", m,
                "'; use tag or tag_causal");
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
  const StringList methods = cfg.get_string_list("methods");
  check_config(cfg, lengths, methods);
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
  const double init_std = table.std().item<double>();
  Progress bar("attacks", static_cast<int64_t>(lengths.size() * methods.size()) * sequences, ctx.log_sink());
  torch::Generator offsets = make_generator(derive_seed(ctx.seed(), "windows"));
  std::map<std::string, std::vector<Row>> rows;  // "method/T" -> one row per sequence
  for (const int64_t t : lengths)
    for (int64_t i = 0; i < sequences; ++i) {
      const int64_t start = torch::randint(val.size(0) - t - 1, {1}, offsets, torch::kLong).item<int64_t>();
      const auto tokens = val.slice(0, start, start + t + 1).unsqueeze(0);
      const TensorList target = gpt_gradients(model, tokens);
      const auto bag = tokens_in_gradient(target[0]);  // wte is the GPT's first parameter
      for (const auto& m : methods) {
        const std::string key = "method=" + m + ",length=" + std::to_string(t) + ",sequence=" + std::to_string(i);
        auto& list = rows[m + "/" + std::to_string(t)];
        list.push_back(ctx.sweep_point(key, [&] {
          const auto begin = std::chrono::steady_clock::now();
          auto setup = AttackSetup({1, t, options.width()}).label_shape({1, t, options.vocab()})
                           .seed(derive_seed(ctx.seed(), key)).init_std(init_std);
          if (m == "tag_causal") setup.label_map(causal_label_map(table));
          const auto r = tag(victim, target, setup, tag_opts);
          const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
          const auto original = tokens.slice(1, 0, t), recovered = nearest_tokens(r.inputs, table, TokenDistance::Cosine, bag);
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
        ctx.log(key + ": \"" + std::get<std::string>(row_value(list.back(), "original")) + "\" -> \"" +
                std::get<std::string>(row_value(list.back(), "recovered")) + "\"");
      }
    }
  bar.finish();

  std::vector<Series> acc_series, rouge_series;
  for (const auto& m : methods) {
    Series acc{m + " token accuracy", {}, {}, {}}, r1{m + " ROUGE-1", {}, {}, {}}, r2{m + " ROUGE-2", {}, {}, {}};
    double claim_accuracy = NAN;
    for (const int64_t t : lengths) {
      const auto& rs = rows[m + "/" + std::to_string(t)];
      const std::string k = m + ".T" + std::to_string(t);
      StringList pairs;
      for (const auto& r : rs)
        pairs.push_back(std::get<std::string>(row_value(r, "original")) + "  ->  " +
                        std::get<std::string>(row_value(r, "recovered")));
      const double a = median_of(column(rs, "token_accuracy"));
      ctx.result(k + ".token_accuracy_median", a);
      ctx.result(k + ".rouge1_median", median_of(column(rs, "rouge1")));
      ctx.result(k + ".rouge2_median", median_of(column(rs, "rouge2")));
      ctx.result(k + ".original_to_recovered", pairs);
      acc.x.push_back(t), acc.y.push_back(a);
      r1.x.push_back(t), r1.y.push_back(median_of(column(rs, "rouge1")));
      r2.x.push_back(t), r2.y.push_back(median_of(column(rs, "rouge2")));
      if (t == kClaimLength) claim_accuracy = a;
    }
    acc_series.push_back(acc), rouge_series.push_back(r1), rouge_series.push_back(r2);
    const std::string who =
        m == "tag" ? "undefended TAG (free labels, as published)" : "undefended TAG with causally tied labels [ours]";
    ctx.claim(make_claim(m + "_recovers_most_tokens",
                         who + " recovers most bytes of a 16-byte sequence from a tiny GPT's gradient: median token "
                             "accuracy >= 0.5 (published: 87.5% on a 3-layer transformer, 16 tokens)",
                         claim_accuracy, Comparator::GreaterEqual, 0.5).shown_in("token_accuracy_vs_length"));
  }
  ctx.plot(LinePlot("TAG on a tiny GPT's gradient (fortunes, batch 1): token accuracy, median over sequences",
                    "sequence length (bytes)", "token accuracy").with(acc_series),
           "token_accuracy_vs_length");
  ctx.plot(LinePlot("TAG on a tiny GPT's gradient (fortunes, batch 1): ROUGE F1, median over sequences",
                    "sequence length (bytes)", "ROUGE F1").with(rouge_series),
           "rouge_vs_length");
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(privacy, dlg_text, run,
                        ExperimentInfo("P6 gradient leakage (arXiv 2311.13624)",
                                       "TAG recovers fortunes text from a tiny GPT's gradient: token accuracy, ROUGE")
                            .sweep()
                            .quick_seconds(6))

}  // namespace lmlab
