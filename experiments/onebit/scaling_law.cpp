// onebit.scaling_law: training loss of 1-bit language models follows power laws in parameters N,
// data D and compute C = 6ND, and the 1-bit models approach full precision as N grows (P1,
// arXiv 2411.01663, after Kaplan et al. 2020; BitNet, arXiv 2310.11453, and b1.58, 2402.17764).
//
// Models: tiny GPTs whose every linear map is a BitLinear or, for the twin, a plain Linear from the
// same initialisation (onebit/bitnet_gpt.h). Each (precision, width) trains once at a constant learning
// rate after warm-up, and its validation loss (nats per byte) is read when it has seen each D of
// `tokens`: our deviation from separate runs per D, which a cosine schedule would require. The
// learning rate is chosen per (precision, width) from lr_factors x train.lr: one short run per
// factor to the first D, scored on every selection_every-th training document, held out of all
// training (binary models may want another lr than their twins; one lr for all would favour one).
// The chosen factor's short run is the start of its full run, which goes on from it.
//
// Fits per precision (lmlab/scaling/power_law.h): Kaplan's L(N) at the largest D, L(D) at the
// largest N, L(C) on the compute frontier, and Chinchilla's E + A/N^a + B/D^b on all points, with
// bootstrap 95% intervals. Claims, thresholds fixed before any run:
//  * "the power laws explain the losses": Chinchilla's fit has R^2 >= 0.9 on log loss per
//    precision (a law that leaves more than 10% of the log-loss variance unexplained does not
//    describe the sweep);
//  * "the 1-bit gap shrinks as N grows": the least-squares slope of the relative gap
//    (L_1bit - L_fp) / L_fp at the largest D against log N is negative, per 1-bit precision.
#include <cmath>
#include <map>
#include <memory>
#include <optional>

#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "lmlab/data/text_corpus.h"
#include "lmlab/onebit/bit_linear.h"
#include "lmlab/scaling/power_law.h"
#include "onebit/bitnet_gpt.h"
#include "registry.h"
#include "common/stats.h"
#include "common/lm_config.h"
#include "common/lr_choice.h"
#include "lmlab/train/evaluate.h"
#include "lmlab/train/lm_trainer.h"

namespace lmlab {
namespace {

using namespace onebit;

// One model in training at learning rate `lr` toward `max_tokens`. The schedule is warm-up then
// constant, so a run stopped at the first D is the start of the full run: the full run goes on from
// its lr trial instead of repeating it (the same numbers as a run from scratch).
struct Training {
  Training(RunContext& ctx, const std::string& precision, int64_t width, double lr, int64_t max_tokens)
      : model((seed_everything(derive_seed(ctx.seed(), "init-width-" + std::to_string(width))),  // twins share it
               GPT(bitnet_gpt_options(ctx.config(), precision, width)))),
        trainer(model, options(ctx, lr, max_tokens), derive_seed(ctx.seed(), "batches")) {}

  static LMTrainOptions options(RunContext& ctx, double lr, int64_t max_tokens) {
    const Config& cfg = ctx.config();
    const int64_t batch_tokens = cfg.get_int("train.batch") * cfg.get_int("model.context");
    LMTrainOptions o = lm_train_options(cfg, (max_tokens + batch_tokens - 1) / batch_tokens, derive_seed(ctx.seed(), "optim"));
    o.cosine = false;
    o.lr = lr;
    return o;
  }

  GPT model;
  LMTrainer trainer;
};

// Trains `t` on until it has seen each D of `tokens` and returns its loss on `eval` (nats/byte) there.
Row train_point(RunContext& ctx, Training& t, const TextBatcher& train, const TextBatcher& eval,
                const std::string& precision, int64_t width, const IntList& tokens) {
  Row row = {{"precision", precision}, {"width", width}, {"parameters", t.model->num_parameters(true)}};
  Progress bar(precision + " width " + std::to_string(width), tokens.back(), ctx.log_sink());
  bar.advance(t.trainer.tokens_seen());
  for (size_t k = 0; k < tokens.size(); ++k) {
    while (t.trainer.tokens_seen() < tokens[k]) {
      const int64_t before = t.trainer.tokens_seen();
      t.trainer.step(train);
      bar.advance(t.trainer.tokens_seen() - before);
    }
    const double loss = evaluate_bpb(t.model, eval, ctx.config().get_int("eval_batches")) * std::log(2.0);
    row.emplace_back("loss_at_" + std::to_string(tokens[k]), loss);
    row.emplace_back("tokens_at_" + std::to_string(tokens[k]), t.trainer.tokens_seen());
    ctx.metric({{"precision", precision}, {"width", width}, {"tokens", t.trainer.tokens_seen()}, {"val_loss", loss}});
  }
  bar.finish();
  return row;
}

struct Points {
  std::vector<double> n, d, loss;
};

// Fits and records the laws of one precision; returns Chinchilla's R^2.
double fit_and_record(RunContext& ctx, const std::string& precision, const Points& p, double max_d, double max_n) {
  const Config& cfg = ctx.config();
  Points at_max_d, at_max_n;
  std::vector<double> compute;
  for (size_t i = 0; i < p.n.size(); ++i) {
    if (p.d[i] == max_d) at_max_d.n.push_back(p.n[i]), at_max_d.loss.push_back(p.loss[i]);
    if (p.n[i] == max_n) at_max_n.d.push_back(p.d[i]), at_max_n.loss.push_back(p.loss[i]);
    compute.push_back(6 * p.n[i] * p.d[i]);
  }
  Points frontier;
  for (size_t i : scaling::compute_frontier(compute, p.loss)) frontier.n.push_back(compute[i]), frontier.loss.push_back(p.loss[i]);
  const std::string key = precision + ".";
  const auto record_kaplan = [&](const std::string& name, const std::vector<double>& x, const std::vector<double>& l) {
    if (x.size() < 2) return;
    const scaling::PowerLawFit fit = scaling::fit_power_law(x, l);
    ctx.result(key + name + ".alpha", fit.alpha);
    ctx.result(key + name + ".r2", fit.r2);
  };
  record_kaplan("L(N)", at_max_d.n, at_max_d.loss);
  record_kaplan("L(D)", at_max_n.d, at_max_n.loss);
  record_kaplan("L(C)", frontier.n, frontier.loss);

  const scaling::ChinchillaFit fit = scaling::fit_chinchilla(p.n, p.d, p.loss);
  for (const auto& [name, value] : {std::pair{"E", fit.E}, {"A", fit.A}, {"B", fit.B}, {"alpha", fit.alpha},
                                    {"beta", fit.beta}, {"r2", fit.r2}})
    ctx.result(key + "chinchilla." + name, value);
  const int resamples = static_cast<int>(cfg.get_int("bootstrap"));
  if (resamples == 0) return fit.r2;
  const auto intervals = scaling::bootstrap_intervals(
      p.n.size(), resamples, derive_seed(ctx.seed(), "bootstrap-" + precision), 0.95,
      [&](const std::vector<size_t>& idx) {
        Points r;
        for (size_t i : idx) r.n.push_back(p.n[i]), r.d.push_back(p.d[i]), r.loss.push_back(p.loss[i]);
        // Resamples polish the best 2 grid starts, not 8: 8 x 200 L-BFGS iterations per resample
        // cost about 2 s, most of the run.
        const scaling::ChinchillaFit f = scaling::fit_chinchilla(r.n, r.d, r.loss, {1e-3, 2, 100});
        return std::vector<double>{f.alpha, f.beta, f.E};
      });
  const char* names[] = {"alpha", "beta", "E"};
  for (size_t k = 0; k < intervals.size(); ++k)
    ctx.result(key + "chinchilla." + names[k] + "_ci95", FloatList{intervals[k].low, intervals[k].high});
  return fit.r2;
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const StringList precisions = cfg.get_string_list("precisions");
  const IntList widths = cfg.get_int_list("widths"), tokens = cfg.get_int_list("tokens");
  LMLAB_CHECK(widths.size() >= 2 && tokens.size() >= 2 && widths.size() * tokens.size() >= 5, UsageError,
              "need >= 2 widths, >= 2 token counts and >= 5 (width, tokens) points for the fits");
  for (size_t k = 1; k < tokens.size(); ++k)
    LMLAB_CHECK(tokens[k] > tokens[k - 1], UsageError, "tokens must increase, got ", tokens[k - 1], " then ", tokens[k]);
  LMLAB_CHECK(precisions.size() >= 1 && precisions.front() == "fp", UsageError,
              "precisions must start with \"fp\", the full-precision twin the 1-bit gap is measured against");

  // The learning rate of each (precision, width): of lr_factors x train.lr, the lowest loss on
  // every selection_every-th training document (held out of training) after the first D.
  const FloatList lr_factors = cfg.get_float_list("lr_factors");
  const int64_t every = lr_factors.size() > 1 ? cfg.get_int("selection_every") : 0;
  LMLAB_CHECK(lr_factors.size() == 1 || every >= 2, UsageError,
              "selection_every must be >= 2 (1 would hold out all the training text)");
  const std::vector<Document> docs = load_fortunes("", cfg.get_string_list("topics"));
  const auto held_out = hold_out_every(select_split(docs, TextSplit::Train), every);
  check_lr_factors(lr_factors, static_cast<int64_t>(held_out.selection.size()), "lower selection_every",
                   "lr_factors");
  const TextBatcher train(make_token_stream(held_out.train));
  const TextBatcher val(make_token_stream(select_split(docs, TextSplit::Validation)));
  const std::optional<TextBatcher> selection =
      every ? std::optional<TextBatcher>(make_token_stream(held_out.selection)) : std::nullopt;
  ctx.log("1-bit linear maps: LayerNorm on their input before the activation quantization (BitNet's recipe)");

  std::map<std::string, Points> points;
  std::map<std::string, std::vector<double>> loss_at_max_d;  // per precision, per width
  std::vector<double> n_of_width;
  for (const std::string& precision : precisions) {
    if (precision != "fp") weight_quant_from_name(precision);  // validates the name before training
    FloatList lrs;
    for (int64_t width : widths) {
      const std::string key = "precision=" + precision + ",width=" + std::to_string(width);
      std::map<double, std::unique_ptr<Training>> trials;  // by lr, those computed in this process
      const auto trial = [&](double lr) {  // the full run's start, scored on the held-out documents
        auto t = std::make_unique<Training>(ctx, precision, width, lr, tokens.back());
        Row row = train_point(ctx, *t, train, *selection, precision, width, {tokens.front()});
        row.emplace_back("selection_loss", row_number(row, "loss_at_" + std::to_string(tokens.front())));
        trials[lr] = std::move(t);
        return row;
      };
      const double base_lr = cfg.get_float("train.lr");
      lrs.push_back(selection ? row_number(choose_learning_rate(ctx, key + ",select", lr_factors, base_lr, trial), "lr")
                              : lr_factors.front() * base_lr);
      const Row row = ctx.sweep_point(key, [&] {
        auto& started = trials[lrs.back()];  // none when the trial was reused from disk or another rank
        if (!started) started = std::make_unique<Training>(ctx, precision, width, lrs.back(), tokens.back());
        return train_point(ctx, *started, train, val, precision, width, tokens);
      });
      const double n = row_number(row, "parameters");
      if (precision == "fp") n_of_width.push_back(n);
      for (int64_t d : tokens) {
        points[precision].n.push_back(n);
        points[precision].d.push_back(row_number(row, "tokens_at_" + std::to_string(d)));
        points[precision].loss.push_back(row_number(row, "loss_at_" + std::to_string(d)));
      }
      loss_at_max_d[precision].push_back(points[precision].loss.back());
    }
    ctx.result(precision + ".lr", lrs);
  }

  std::vector<Series> by_n;
  for (const std::string& precision : precisions) {
    const Points& p = points[precision];
    const double r2 = fit_and_record(ctx, precision, p, p.d.back(), p.n.back());
    ctx.claim(make_claim(precision + "_power_law_fits",
                         "Chinchilla's law E + A/N^a + B/D^b explains the " + precision + " losses: R^2 on log loss >= 0.9",
                         r2, Comparator::GreaterEqual, 0.9).shown_in(precision + "_loss_vs_tokens"));
    by_n.push_back({precision, n_of_width, loss_at_max_d[precision], {}});
    std::vector<Series> by_d;
    for (size_t w = 0; w < widths.size(); ++w) {
      Series s{"width " + std::to_string(widths[w]), {}, {}, {}};
      for (size_t k = 0; k < tokens.size(); ++k) {
        s.x.push_back(p.d[w * tokens.size() + k]);
        s.y.push_back(p.loss[w * tokens.size() + k]);
      }
      by_d.push_back(s);
    }
    ctx.plot(LinePlot("Validation loss against tokens (" + precision + ")", "tokens D", "nats per byte").log_xy().with(by_d),
             precision + "_loss_vs_tokens");
    if (precision == "fp") continue;
    std::vector<double> log_n, gap;
    for (size_t w = 0; w < widths.size(); ++w) {
      log_n.push_back(std::log(n_of_width[w]));
      gap.push_back(loss_at_max_d[precision][w] / loss_at_max_d["fp"][w] - 1);
    }
    const double slope = linear_slope(log_n, gap);
    ctx.result(precision + ".relative_gap", FloatList(gap));
    ctx.result(precision + ".relative_gap_slope", slope);
    ctx.claim(make_claim(precision + "_gap_shrinks",
                         "the " + precision + " model's relative loss gap to full precision shrinks as N grows: "
                         "slope of (L_1bit - L_fp)/L_fp against log N < 0",
                         slope, Comparator::Less, 0.0).shown_in("loss_vs_parameters"));
  }
  ctx.result("parameters", FloatList(n_of_width));
  ctx.plot(LinePlot("Validation loss at the largest D against parameters", "non-embedding parameters N", "nats per byte").log_xy().with(by_n),
           "loss_vs_parameters");
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(onebit, scaling_law, run,
                        ExperimentInfo("P1 1-bit scaling (arXiv 2411.01663)",
                                       "binary and ternary tiny GPTs and their twins: power laws in N, D, C")
                            .sweep()
                            .section("optim")
                            .quick_seconds(62))

}  // namespace lmlab
