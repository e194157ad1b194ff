// onebit.plateau: a diagnosis of the stall onebit.scaling_law measured (P1, arXiv 2411.01663): at
// width 128 its binary and ternary GPTs sit near 3.3 nats per byte, the loss of a model that
// ignores the context (the byte unigram), for 5x more tokens than their full-precision twins. One
// model per precision (onebit/bitnet_gpt.h, the same initialisation and batches) trains at the
// learning rate the scaling run chose (constant after warm-up); every `every` tokens, on validation batches:
//  * loss: nats per byte;
//  * embedding-only loss: the same logits with every block bypassed, ln_f(wte[x] + wpe) wte^T
//    (the tied head): what the full-precision path around the blocks predicts;
//  * context information: I = mean over positions of KL(p_t || p_bar), p_t the predicted
//    distribution at position t and p_bar their mean over the batch; 0 for a model that predicts
//    the same distribution everywhere (a unigram model), the nats it gains from the context;
//  * per block, the residual update ||block(h) - h|| / ||h|| (how much the block writes into the
//    stream it reads), and the spread of the stream it writes, ||h' - mean h'|| / ||h'|| with the
//    mean over every position of the batches (0: the same vector at every position, so the blocks
//    above cannot tell positions or tokens apart);
//  * per block, the attention entropy: -sum_j p_ij ln p_ij over the keys row i sees, divided by
//    ln(i + 1) (1: uniform over the visible keys, 0: one key), averaged over rows 1.., heads and
//    batches.
// No claims: the experiment measures, docs/onebit.md reads the curves.
#include <cmath>

#include "common/lm_config.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_corpus.h"
#include "lmlab/models/attention.h"
#include "lmlab/onebit/quantize.h"
#include "lmlab/train/lm_trainer.h"
#include "onebit/bitnet_gpt.h"
#include "registry.h"

namespace lmlab {
namespace {

struct Diagnosis {
  double loss = 0, embedding_loss = 0, context_information = 0;
  std::vector<double> residual_update, stream_spread, attention_entropy;  // per block
};

// Mean over rows 1..T-1, heads and batches of the row entropy of a causal map p [B,H,T,T] over the
// i + 1 visible keys, divided by ln(i + 1).
double normalized_entropy(const torch::Tensor& p) {
  const int64_t t = p.size(2);
  const auto h = -(p * torch::log(p.clamp_min(1e-30))).sum(-1);  // [B,H,T]
  const auto visible = torch::arange(1, t, torch::kDouble).add(1).log();
  return (h.narrow(2, 1, t - 1).to(torch::kDouble) / visible).mean().item<double>();
}

Diagnosis diagnose(GPT& model, const std::vector<TokenBatch>& batches) {
  torch::NoGradGuard no_grad;
  const bool training = model->is_training();
  model->eval();
  std::vector<std::shared_ptr<SoftmaxAttention>> cores;
  for (const auto& m : model->modules(false))
    if (auto core = std::dynamic_pointer_cast<SoftmaxAttention>(m)) cores.push_back(core), core->record_probabilities(true);
  const int64_t layers = model->options().layers();
  Diagnosis d;
  d.residual_update.assign(layers, 0), d.stream_spread.assign(layers, 0), d.attention_entropy.assign(layers, 0);
  auto params = model->named_parameters();
  const torch::Tensor wte = params["wte.weight"], wpe = params["wpe.weight"];
  auto ln_f = model->named_modules()["ln_f"]->as<torch::nn::LayerNorm>();
  for (const TokenBatch& b : batches) {
    const int64_t t = b.x.size(1);
    torch::Tensor h = model->embed(b.x) + wpe.narrow(0, 0, t);
    const auto embedding_logits = torch::matmul(ln_f->forward(h), wte.t());
    for (int64_t l = 0; l < layers; ++l) {
      TransformerBlock block = model->block(l);
      const torch::Tensor next = block->forward(h);
      d.residual_update[l] += ((next - h).norm() / h.norm()).item<double>();
      d.stream_spread[l] += ((next - next.mean(torch::IntArrayRef{0, 1}, true)).norm() / next.norm()).item<double>();
      d.attention_entropy[l] += normalized_entropy(cores[l]->last_probabilities());
      h = next;
    }
    const auto logits = torch::matmul(ln_f->forward(h), wte.t());  // the model's forward, tied head
    d.loss += lm_loss(logits, b.y).total_nats / double(b.y.numel());
    d.embedding_loss += lm_loss(embedding_logits, b.y).total_nats / double(b.y.numel());
    const auto logp = torch::log_softmax(logits.reshape({-1, logits.size(-1)}).to(torch::kDouble), -1);
    const auto log_mean = torch::log(logp.exp().mean(0, true));
    d.context_information += (logp.exp() * (logp - log_mean)).sum(-1).mean().item<double>();
  }
  const double n = double(batches.size());
  d.loss /= n, d.embedding_loss /= n, d.context_information /= n;
  for (int64_t l = 0; l < layers; ++l) d.residual_update[l] /= n, d.stream_spread[l] /= n, d.attention_entropy[l] /= n;
  for (const auto& core : cores) core->record_probabilities(false);
  model->train(training);
  return d;
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const StringList precisions = cfg.get_string_list("precisions");
  const int64_t width = cfg.get_int("width"), tokens = cfg.get_int("tokens"), every = cfg.get_int("every");
  LMLAB_CHECK(every >= 1 && tokens >= every, UsageError, "need 1 <= every <= tokens; got every = ", every,
              ", tokens = ", tokens);
  LMLAB_CHECK(cfg.get_bool("model.tied_head"), UsageError, "onebit.plateau reads the tied head's embedding-only "
              "logits; keep model.tied_head = true");
  LMLAB_CHECK(!precisions.empty(), UsageError, "precisions must name at least one of fp, binary, ternary");
  for (const std::string& precision : precisions)
    if (precision != "fp") onebit::weight_quant_from_name(precision);  // validates the name before training
  LMLAB_CHECK(cfg.get_int("eval_batches") >= 1, UsageError, "eval_batches must be >= 1; got ",
              cfg.get_int("eval_batches"));
  const std::vector<Document> docs = load_fortunes("", cfg.get_string_list("topics"));
  const TextBatcher train(make_token_stream(select_split(docs, TextSplit::Train)));
  const TextBatcher val(make_token_stream(select_split(docs, TextSplit::Validation)));
  auto batches = val.eval_batches(64, cfg.get_int("model.context"));
  batches.resize(std::min<size_t>(batches.size(), size_t(cfg.get_int("eval_batches"))));
  LMLAB_CHECK(!batches.empty(), DataError, "the validation text holds no window of model.context + 1 bytes; "
              "choose more topics or a shorter model.context");

  const int64_t batch_tokens = cfg.get_int("train.batch") * cfg.get_int("model.context");
  std::map<std::string, std::vector<double>> curves;  // "<precision>.<quantity>" per diagnosis
  std::vector<double> seen;
  for (const std::string& precision : precisions) {
    const Row row = ctx.sweep_point("precision=" + precision, [&] {
      LMTrainOptions options = lm_train_options(cfg, (tokens + batch_tokens - 1) / batch_tokens,
                                                derive_seed(ctx.seed(), "optim"));
      options.cosine = false;
      seed_everything(derive_seed(ctx.seed(), "init"));  // the twins share it
      GPT model(bitnet_gpt_options(cfg, precision, width));
      LMTrainer trainer(model, options, derive_seed(ctx.seed(), "batches"));
      Row out = {{"precision", precision}};
      Progress bar(precision, tokens, ctx.log_sink());
      for (int64_t k = 1; k * every <= tokens; ++k) {
        while (trainer.tokens_seen() < k * every) {
          const int64_t before = trainer.tokens_seen();
          trainer.step(train);
          bar.advance(trainer.tokens_seen() - before);
        }
        const Diagnosis d = diagnose(model, batches);
        Row m = {{"precision", precision}, {"tokens", trainer.tokens_seen()}, {"loss", d.loss},
                 {"embedding_loss", d.embedding_loss}, {"context_information", d.context_information}};
        for (size_t l = 0; l < d.residual_update.size(); ++l) {
          m.emplace_back("residual_update_" + std::to_string(l), d.residual_update[l]);
          m.emplace_back("stream_spread_" + std::to_string(l), d.stream_spread[l]);
          m.emplace_back("attention_entropy_" + std::to_string(l), d.attention_entropy[l]);
        }
        ctx.metric(m);
        for (size_t i = 1; i < m.size(); ++i) out.emplace_back(m[i].first + "@" + std::to_string(k), m[i].second);
      }
      bar.finish();
      return out;
    });
    for (const auto& [key, value] : row) {
      const auto at = key.find('@');
      if (at == std::string::npos) continue;
      curves[precision + "." + key.substr(0, at)].push_back(row_number(row, key));
    }
  }
  const auto series = [&](const std::string& quantity, const std::string& suffix = "") {
    std::vector<Series> out;
    for (const std::string& precision : precisions)
      out.push_back({precision + suffix, curves[precision + ".tokens"], curves[precision + "." + quantity], {}});
    return out;
  };
  std::vector<Series> losses = series("loss"), embedding = series("embedding_loss", " (embedding only)");
  losses.insert(losses.end(), embedding.begin(), embedding.end());
  ctx.plot(LinePlot("Validation loss, and the blocks bypassed", "tokens", "nats per byte").log_x().with(losses), "loss");
  ctx.plot(LinePlot("Context information I = mean KL(p_t || p_bar)", "tokens", "nats").log_x().with(series("context_information")),
           "context_information");
  std::vector<Series> entropy, update, spread;
  for (int64_t l = 0; l < cfg.get_int("model.layers"); ++l) {
    const std::string suffix = " block " + std::to_string(l);
    for (auto& s : series("attention_entropy_" + std::to_string(l), suffix)) entropy.push_back(s);
    for (auto& s : series("residual_update_" + std::to_string(l), suffix)) update.push_back(s);
    for (auto& s : series("stream_spread_" + std::to_string(l), suffix)) spread.push_back(s);
  }
  ctx.plot(LinePlot("Attention entropy / ln(visible keys)", "tokens", "normalized entropy").log_x().with(entropy),
           "attention_entropy");
  ctx.plot(LinePlot("Residual update ||block(h) - h|| / ||h||", "tokens", "ratio").log_x().log_y().with(update),
           "residual_update");
  ctx.plot(LinePlot("Spread of the stream a block writes, ||h - mean h|| / ||h||", "tokens", "ratio").log_x().with(spread),
           "stream_spread");
  for (const auto& [key, values] : curves) ctx.result(key, FloatList(values));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(onebit, plateau, run,
                        ExperimentInfo("P1 1-bit scaling (arXiv 2411.01663)",
                                       "why 1-bit GPTs stall at the unigram loss: context use, attention, residual updates")
                            .sweep()
                            .quick_seconds(5))

}  // namespace lmlab
