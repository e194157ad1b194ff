// streaming_attention.memory_error: one-pass streaming attention in sublinear space (P5, arXiv 2311.14652:
// "sublinear space o(n) to store three sketch matrices ... as the token length n increases, our
// error guarantee diminishes while the memory usage remains nearly constant"), implemented as
// streaming_attention::StreamingAttention (lmlab/streaming_attention/streaming_attention.h; NOTES.md P5 is our reading).
//
// Data: tokens with entries uniform in [-B, B] ("uniform") or at the corners +-B ("corners",
// scores reach +-R where the polynomial's error is largest), generated chunk by chunk from the
// seed and never stored; exact attention exp(q k^T / d) in float64, accumulated over the same
// chunks for a sample of queries (no n x n matrix).
//  * memory: n = 2^10 .. 2^24 (quick 2^20), d = 4: state bytes (S, z, phi1 weights, output sketch
//    sized for the largest n) against the KV cache n d 2 sizeof(float); peak RSS of a child process
//    per point and mode (memory_probe.h): streaming, and exact attention from a KV cache; error
//    against n.
//  * degree: error against g at fixed n for d = 4, 8 and both data sets.
//  * recovery: planted heavy rows. Keys in antithetic pairs (k, -k) with values v = k, so a query
//    q = 0 attends to zero mean exactly; background queries have entries in [-beta B, beta B]
//    (outputs O(beta)), k planted queries are corners of the cube (outputs O(B^2/d)). The output
//    sketch is decoded to k-sparse columns y_c and compared with the exact output T.
//
// Claims, thresholds fixed from the paper's statements before any run:
//  * state_bytes_constant: the state at n = 2^20 takes exactly the bytes it takes at 2^12
//    (|difference| <= 0 bytes): memory independent of n.
//  * error_within_bound: every point's max |T~ - T| is at most 2 delta/(1-delta) max|v| (our
//    derivation in streaming.h, delta the polynomial's relative error bound): max ratio <= 1.
//  * recovery_guarantee: per seed, every column satisfies ||T_c - y_c|| <= (1 + eps) min_{k-sparse}
//    ||T_c - y'|| + eps2 with eps2 = (2 + eps) sqrt(n) 2 delta/(1-delta) max|v| (the sketch's
//    guarantee for T~, count_sketch.h, moved to T by the triangle inequality, ||T_c - T~_c|| <=
//    sqrt(n) max |T - T~|); the paper's success probability 0.99: success rate >= 0.99.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "lmlab/streaming_attention/streaming_attention.h"
#include "lmlab/core/error.h"
#include "lmlab/core/progress.h"
#include "lmlab/core/seed.h"
#include "registry.h"
#include "streaming_attention/memory_probe.h"

namespace lmlab {
namespace {

using namespace streaming_attention;
using Tensor = torch::Tensor;

constexpr char kName[] = "streaming_attention.memory_error";

// m tokens of d entries from distribution `data`.
Tensor entries(const std::string& data, int64_t m, int64_t d, double bound, uint64_t seed) {
  torch::Generator gen = make_generator(seed);
  if (data == "uniform") return (torch::rand({m, d}, gen, torch::kDouble) * 2 - 1) * bound;
  if (data == "corners") return (torch::randint(0, 2, {m, d}, gen, torch::kDouble) * 2 - 1) * bound;
  throw UsageError("unknown data '" + data + "'; use \"uniform\" or \"corners\"");
}

// Calls f(k, v) on the n tokens of the stream (data, d, seed), chunk by chunk; every call with the
// same arguments sees the same tokens.
void for_each_chunk(const Config& cfg, const std::string& data, int64_t n, int64_t d, uint64_t seed,
                    const std::function<void(const Tensor&, const Tensor&)>& f) {
  const int64_t chunk = cfg.get_int("chunk");
  LMLAB_CHECK(chunk >= 1, UsageError, "chunk must be >= 1, got ", chunk);
  for (int64_t begin = 0, j = 0; begin < n; begin += chunk, ++j) {
    const int64_t m = std::min(chunk, n - begin);
    const uint64_t s = derive_seed(seed, "stream-" + data + "-" + std::to_string(d) + "-" + std::to_string(j));
    f(entries(data, m, d, cfg.get_float("entry_bound"), derive_seed(s, "k")),
      entries(data, m, d, cfg.get_float("entry_bound"), derive_seed(s, "v")));
  }
}

// Exact attention exp(scale q k^T) for fixed queries, accumulated over key chunks in float64
// (|scores| <= R keeps exp in range without a running maximum).
class ExactAttention {
 public:
  static constexpr int64_t kKeyBlock = 8192;
  ExactAttention(const Tensor& q, double scale)
      : q_(q.to(torch::kDouble)), scale_(scale), num_(torch::zeros({q.size(0), q.size(1)}, torch::kDouble)),
        den_(torch::zeros({q.size(0), 1}, torch::kDouble)) {}
  void add(const Tensor& k, const Tensor& v) {
    for (int64_t begin = 0; begin < k.size(0); begin += kKeyBlock) {  // w [m, 8192] at a time
      const int64_t c = std::min(kKeyBlock, k.size(0) - begin);
      const Tensor w = q_.mm(k.narrow(0, begin, c).to(torch::kDouble).t()).mul_(scale_).exp_();
      num_.addmm_(w, v.narrow(0, begin, c).to(torch::kDouble));
      den_ += w.sum(1, true);
    }
  }
  Tensor result() const { return num_ / den_; }

 private:
  Tensor q_;
  double scale_;
  Tensor num_, den_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a.to(torch::kDouble) - b).abs().max().item<double>();
}

int64_t largest_log2_n(const Config& cfg) {
  const IntList l = cfg.get_int_list("memory.log2_n");
  LMLAB_CHECK(!l.empty() && *std::min_element(l.begin(), l.end()) >= 1 && *std::max_element(l.begin(), l.end()) <= 40,
              UsageError, "memory.log2_n must list exponents in [1, 40]");
  return *std::max_element(l.begin(), l.end());
}

// The memory sweep's attention: automatic degree, output sketch sized for the largest n.
StreamingAttentionOptions memory_options(const Config& cfg, uint64_t seed) {
  const int64_t d = cfg.get_int("memory.dim");
  return StreamingAttentionOptions(d)
      .entry_bound(cfg.get_float("entry_bound"))
      .polynomial(ExpPolynomialOptions().max_rel_error(cfg.get_float("memory.max_rel_error")))
      .output_sketch(CountSketchOptions::for_guarantee(cfg.get_int("memory.sketch_k"), cfg.get_float("memory.sketch_eps"),
                                                       0.01, int64_t{1} << largest_log2_n(cfg), d)
                         .seed(derive_seed(seed, "memory-sketch")));
}

Tensor sample_queries(const Config& cfg, const std::string& data, int64_t d, uint64_t seed) {
  return entries(data, cfg.get_int("query_sample"), d, cfg.get_float("entry_bound"),
                 derive_seed(seed, "queries-" + data + "-" + std::to_string(d)));
}

// The streaming side of one memory point: one pass over n tokens (push), the query sample
// answered and compared with exact attention; peak RSS of this process before and after.
Row streaming_side(const Config& cfg, uint64_t seed, int64_t log2_n) {
  const int64_t n = int64_t{1} << log2_n, d = cfg.get_int("memory.dim");
  const double before = streaming::peak_rss_bytes();
  StreamingAttention s(memory_options(cfg, seed));
  const Tensor q = sample_queries(cfg, "uniform", d, seed);
  ExactAttention exact(q, 1.0 / static_cast<double>(d));
  double push_s = 0;
  for_each_chunk(cfg, "uniform", n, d, seed, [&](const Tensor& k, const Tensor& v) {
    const auto start = std::chrono::steady_clock::now();
    s.push(k, v);
    push_s += seconds_since(start);
    exact.add(k, v);
  });
  const double error = max_abs_diff(s.query(q), exact.result());
  return {{"state_bytes", s.state_bytes()},
          {"sketch_bytes", s.output_sketch()->bytes()},
          {"degree", s.features().polynomial().degree()},
          {"features", s.features().feature_dim()},
          {"error", error},
          {"error_bound", s.output_error_bound()},
          {"ingest_tokens_per_second", static_cast<double>(n) / push_s},
          {"rss_before_bytes", before},
          {"rss_peak_bytes", streaming::peak_rss_bytes()}};
}

// Exact attention with a KV cache: K and V kept in float32 [n, d], then the query sample attended
// from the cache; peak RSS of this process before and after.
Row kv_cache_side(const Config& cfg, uint64_t seed, int64_t log2_n) {
  const int64_t n = int64_t{1} << log2_n, d = cfg.get_int("memory.dim"), chunk = cfg.get_int("chunk");
  const double before = streaming::peak_rss_bytes();
  Tensor keys = torch::empty({n, d}), values = torch::empty({n, d});
  int64_t filled = 0;
  for_each_chunk(cfg, "uniform", n, d, seed, [&](const Tensor& k, const Tensor& v) {
    keys.narrow(0, filled, k.size(0)).copy_(k);
    values.narrow(0, filled, k.size(0)).copy_(v);
    filled += k.size(0);
  });
  ExactAttention exact(sample_queries(cfg, "uniform", d, seed), 1.0 / static_cast<double>(d));
  for (int64_t begin = 0; begin < n; begin += chunk)
    exact.add(keys.narrow(0, begin, std::min(chunk, n - begin)), values.narrow(0, begin, std::min(chunk, n - begin)));
  return {{"output_checksum", exact.result().sum().item<double>()},
          {"rss_before_bytes", before},
          {"rss_peak_bytes", streaming::peak_rss_bytes()}};
}

// In a child process: one side of a memory point (probe.mode streaming or kv_cache, probe.log2_n).
void run_probe_mode(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const std::string mode = cfg.get_string("probe.mode");
  LMLAB_CHECK(mode == "streaming" || mode == "kv_cache", UsageError,
              "probe.mode must be \"\", \"streaming\" or \"kv_cache\", got \"", mode, "\"");
  const int64_t log2_n = cfg.get_int("probe.log2_n");
  for (const auto& [key, value] : mode == "streaming" ? streaming_side(cfg, ctx.seed(), log2_n)
                                                      : kv_cache_side(cfg, ctx.seed(), log2_n))
    ctx.result(key, value);
}

// One memory point: each side in its own child process when possible (honest peak RSS), else the
// streaming side in this process without RSS.
Row memory_point(RunContext& ctx, int64_t log2_n) {
  const Config& cfg = ctx.config();
  const bool spawn = cfg.get_bool("memory.process") && streaming::can_spawn_probes();
  const auto probe = [&](const std::string& mode) {
    return streaming::run_probe(ctx, kName, {"probe.mode=" + mode, "probe.log2_n=" + std::to_string(log2_n)});
  };
  const Row side = spawn ? probe("streaming") : streaming_side(cfg, ctx.seed(), log2_n);
  ctx.metric({{"part", std::string("memory")}, {"log2_n", log2_n},
              {"ingest_tokens_per_second", row_number(side, "ingest_tokens_per_second")}});
  Row row = {{"log2_n", log2_n},
             {"kv_cache_bytes", (int64_t{1} << log2_n) * cfg.get_int("memory.dim") * 2 * static_cast<int64_t>(sizeof(float))}};
  for (const char* key : {"state_bytes", "sketch_bytes", "degree", "features", "error", "error_bound"})
    row.emplace_back(key, row_number(side, key));
  if (!spawn) return row;
  const Row kv = probe("kv_cache");
  for (const auto& [mode, r] : {std::pair<std::string, const Row*>{"streaming", &side}, {"kv_cache", &kv}}) {
    row.emplace_back(mode + "_rss_peak_bytes", row_number(*r, "rss_peak_bytes"));
    row.emplace_back(mode + "_rss_increase_bytes", row_number(*r, "rss_peak_bytes") - row_number(*r, "rss_before_bytes"));
  }
  return row;
}

Row degree_point(RunContext& ctx, const std::string& data, int64_t d, int64_t g) {
  const Config& cfg = ctx.config();
  const int64_t n = cfg.get_int("degree.n");
  StreamingAttention s(StreamingAttentionOptions(d).entry_bound(cfg.get_float("entry_bound")).polynomial(
      ExpPolynomialOptions().degree(g).max_rel_error(0.999)));
  const Tensor q = sample_queries(cfg, data, d, ctx.seed());
  ExactAttention exact(q, 1.0 / static_cast<double>(d));
  for_each_chunk(cfg, data, n, d, ctx.seed(), [&](const Tensor& k, const Tensor& v) {
    s.push(k, v);
    exact.add(k, v);
  });
  return {{"data", data},
          {"dim", d},
          {"degree", g},
          {"features", s.features().feature_dim()},
          {"delta", s.features().polynomial().rel_error_bound()},
          {"error", max_abs_diff(s.query(q), exact.result())},
          {"error_bound", s.output_error_bound()}};
}

// ||x_c minus its k largest entries||_2 per column.
Tensor best_k_sparse_error(const Tensor& x, int64_t k) {
  return std::get<0>(x.abs().sort(0, /*descending=*/true)).slice(0, k).pow(2).sum(0).sqrt();
}

Row recovery_point(RunContext& ctx, int64_t seed_index) {
  const Config& cfg = ctx.config();
  const int64_t n = cfg.get_int("recovery.n"), d = cfg.get_int("recovery.dim"), k = cfg.get_int("recovery.k");
  const double b = cfg.get_float("entry_bound"), eps = cfg.get_float("recovery.eps");
  LMLAB_CHECK(n >= 2 && n % 2 == 0 && k >= 1 && k <= n, UsageError,
              "recovery needs an even n >= 2 (antithetic key pairs) and 1 <= k <= n; got n = ", n, ", k = ", k);
  const uint64_t seed = derive_seed(ctx.seed(), "recovery-" + std::to_string(seed_index));
  const Tensor half = entries("uniform", n / 2, d, b, derive_seed(seed, "keys"));
  const Tensor keys = torch::cat({half, -half});
  Tensor queries = entries("uniform", n, d, b * cfg.get_float("recovery.background"), derive_seed(seed, "queries"));
  const Tensor heavy = torch::randperm(n, make_generator(derive_seed(seed, "heavy")), torch::kLong).slice(0, 0, k);
  queries.index_put_({heavy}, entries("corners", k, d, b, derive_seed(seed, "heavy-queries")));

  StreamingAttention s(StreamingAttentionOptions(d).entry_bound(b)
                           .polynomial(ExpPolynomialOptions().max_rel_error(cfg.get_float("recovery.max_rel_error")))
                           .output_sketch(CountSketchOptions::for_guarantee(k, eps, cfg.get_float("recovery.failure"), n, d)
                                              .seed(derive_seed(seed, "sketch"))));
  s.push(keys, keys);  // values v = k
  const Tensor approx = s.query(queries);
  const Tensor y = s.decode(k).dense(n);
  std::vector<Tensor> exact_parts;
  for (int64_t begin = 0; begin < n; begin += 512) {
    ExactAttention exact(queries.slice(0, begin, std::min(n, begin + 512)), 1.0 / static_cast<double>(d));
    exact.add(keys, keys);
    exact_parts.push_back(exact.result());
  }
  const Tensor t = torch::cat(exact_parts);
  const Tensor tail = best_k_sparse_error(t, k);
  const double eps2 = (2 + eps) * std::sqrt(static_cast<double>(n)) * s.output_error_bound();
  const Tensor allowed = (1 + eps) * tail + eps2;
  const Tensor error = (t - y).norm(2, 0);
  const auto all = [](const Tensor& b) { return static_cast<int64_t>(b.all().item<bool>()); };
  return {{"seed", seed_index},
          {"success", all(error <= allowed)},
          {"sketch_success", all((approx - y).norm(2, 0) <= (1 + eps) * best_k_sparse_error(approx, k))},
          {"zero_answer_passes", all(t.norm(2, 0) <= allowed)},
          {"error_over_allowed", (error / allowed).max().item<double>()},
          {"tail_over_norm", (tail / t.norm(2, 0)).max().item<double>()},
          {"eps2", eps2},
          {"sketch_bytes", s.output_sketch()->bytes()},
          {"output_bytes", n * d * 8}};
}

bool has(const Row& row, const std::string& key) {
  return std::any_of(row.begin(), row.end(), [&](const auto& kv) { return kv.first == key; });
}

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  if (!cfg.get_string("probe.mode").empty()) return run_probe_mode(ctx);
  const auto start = std::chrono::steady_clock::now();
  double worst_error_ratio = 0;
  const auto track = [&](const Row& r) {
    worst_error_ratio = std::max(worst_error_ratio, row_number(r, "error") / row_number(r, "error_bound"));
  };

  // ---- memory and error against n --------------------------------------------------------------
  if (cfg.get_bool("memory.process") && !streaming::can_spawn_probes())
    ctx.log("process peak memory not measured: this process is not the lmlab CLI, whose binary the probes re-run");
  const IntList log2_n = cfg.get_int_list("memory.log2_n");
  LMLAB_CHECK(std::count(log2_n.begin(), log2_n.end(), 12) && std::count(log2_n.begin(), log2_n.end(), 20), UsageError,
              "memory.log2_n must include 12 and 20, the two points of the state-bytes claim");
  std::vector<Row> memory;
  std::map<int64_t, double> state_at;
  for (int64_t l : cfg.get_int_list("memory.log2_n")) {
    memory.push_back(ctx.sweep_point("memory,log2_n=" + std::to_string(l), [&] { return memory_point(ctx, l); }));
    state_at[l] = row_number(memory.back(), "state_bytes");
    track(memory.back());
  }
  std::vector<double> n_values;
  for (double l : column(memory, "log2_n")) n_values.push_back(std::pow(2.0, l));
  std::vector<Series> mem = {{"streaming state (S, z, sketch Y)", n_values, column(memory, "state_bytes"), {}},
                             {"KV cache n d 2 sizeof(float)", n_values, column(memory, "kv_cache_bytes"), {}}};
  if (has(memory.front(), "streaming_rss_peak_bytes")) {
    mem.push_back({"process peak RSS, streaming", n_values, column(memory, "streaming_rss_peak_bytes"), {}});
    mem.push_back({"process peak RSS, exact with KV cache", n_values, column(memory, "kv_cache_rss_peak_bytes"), {}});
    for (const std::string side : {"streaming", "kv_cache"})
      for (const std::string what : {"_rss_peak_bytes", "_rss_increase_bytes"})
        ctx.result("memory." + side + what, FloatList(column(memory, side + what)));
  }
  ctx.plot(LinePlot("Memory against context length n (d = " + std::to_string(cfg.get_int("memory.dim")) + ")", "tokens n", "bytes").log_xy().with(mem),
           "memory_vs_n");
  ctx.plot(LinePlot("Error against exact attention (uniform, d = " + std::to_string(cfg.get_int("memory.dim")) + ")", "tokens n", "max |T~ - T| over the query sample").log_xy().with(
                    {{"measured", n_values, column(memory, "error"), {}},
                     {"bound 2 delta/(1-delta) max|v|", n_values, column(memory, "error_bound"), {}}}),
           "error_vs_n");
  for (const std::string key : {"state_bytes", "sketch_bytes", "kv_cache_bytes", "error", "error_bound"})
    ctx.result("memory." + key, FloatList(column(memory, key)));
  ctx.result("memory.log2_n", cfg.get_int_list("memory.log2_n"));
  ctx.result("memory.degree", static_cast<int64_t>(row_number(memory.front(), "degree")));
  ctx.result("memory.features", static_cast<int64_t>(row_number(memory.front(), "features")));
  ctx.result("memory.kv_over_state_at_largest_n",
             row_number(memory.back(), "kv_cache_bytes") / row_number(memory.back(), "state_bytes"));

  ctx.log("memory part done after " + Progress::format_seconds(seconds_since(start)));

  // ---- error against degree --------------------------------------------------------------------
  std::vector<Series> by_degree;
  const double b = cfg.get_float("entry_bound");
  for (const std::string& data : cfg.get_string_list("degree.data")) {
    for (int64_t d : cfg.get_int_list("degree.dims")) {
      Series measured{data + ", d = " + std::to_string(d), {}, {}, {}}, bound;
      for (int64_t g : cfg.get_int_list("degree.degrees")) {
        const bool in_regime = g >= 1 && exp_interpolation_error_bound(g, b * b) < 0.999;
        if (!in_regime || polynomial_feature_dim(d, g) > cfg.get_int("degree.max_features")) {
          ctx.log("degree point " + data + ", d = " + std::to_string(d) + ", g = " + std::to_string(g) + " skipped: " +
                  (in_regime ? "more features than degree.max_features" : "relative error bound >= 1 at R = B^2"));
          continue;
        }
        const std::string key = "degree,data=" + data + ",d=" + std::to_string(d) + ",g=" + std::to_string(g);
        const Row r = ctx.sweep_point(key, [&] { return degree_point(ctx, data, d, g); });
        track(r);
        measured.x.push_back(static_cast<double>(g));
        measured.y.push_back(row_number(r, "error"));
        bound.x.push_back(static_cast<double>(g));
        bound.y.push_back(row_number(r, "error_bound"));
      }
      ctx.result("degree." + data + ".d" + std::to_string(d) + ".error", FloatList(measured.y));
      ctx.result("degree." + data + ".d" + std::to_string(d) + ".bound", FloatList(bound.y));
      by_degree.push_back(measured);
      // delta depends on R only and max|v| is B or just below it: one bound curve serves every series.
      if (by_degree.size() == 1) by_degree.push_back({"bound 2 delta/(1-delta) max|v|", bound.x, bound.y, {}});
    }
  }
  ctx.plot(LinePlot("Error against degree g (n = " + std::to_string(cfg.get_int("degree.n")) + ")", "degree g", "max |T~ - T| over the query sample").log_y().with(by_degree),
           "error_vs_degree");

  ctx.log("degree part done after " + Progress::format_seconds(seconds_since(start)));

  // ---- sparse recovery of the output sketch ----------------------------------------------------
  std::vector<Row> recovery;
  for (int64_t s = 0; s < cfg.get_int("recovery.seeds"); ++s)
    recovery.push_back(ctx.sweep_point("recovery,seed=" + std::to_string(s), [&] { return recovery_point(ctx, s); }));
  LMLAB_CHECK(!recovery.empty(), UsageError, "recovery.seeds must be >= 1");
  const auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); };
  const double success = mean(column(recovery, "success"));
  std::vector<double> ratio = column(recovery, "error_over_allowed");
  std::sort(ratio.begin(), ratio.end());
  ctx.result("recovery.success_rate", success);
  ctx.result("recovery.sketch_success_rate", mean(column(recovery, "sketch_success")));
  ctx.result("recovery.zero_answer_pass_rate", mean(column(recovery, "zero_answer_passes")));
  ctx.result("recovery.max_error_over_allowed", ratio.back());
  const std::vector<double> tail_over_norm = column(recovery, "tail_over_norm");
  ctx.result("recovery.max_tail_over_norm", *std::max_element(tail_over_norm.begin(), tail_over_norm.end()));
  ctx.result("recovery.eps2", row_number(recovery.front(), "eps2"));
  ctx.result("recovery.sketch_bytes", row_number(recovery.front(), "sketch_bytes"));
  ctx.result("recovery.output_bytes", row_number(recovery.front(), "output_bytes"));
  std::vector<double> rank(ratio.size());
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = static_cast<double>(i + 1) / rank.size();
  ctx.plot(LinePlot("Output sketch: ||T_c - y_c|| / ((1+eps) tail_k + eps2), worst column per seed", "fraction of seeds", "error / allowed (<= 1: guarantee met)").log_y().with(
                    {{"sorted over seeds", rank, ratio, {}}, {"guarantee", {0.0, 1.0}, {1.0, 1.0}, {}}}),
           "recovery");

  ctx.log("recovery part done after " + Progress::format_seconds(seconds_since(start)));

  // ---- claims ----------------------------------------------------------------------------------
  ctx.claim(make_claim("state_bytes_constant",
                       "streaming state (S, z, output sketch) at n = 2^20 takes the bytes it takes at n = 2^12: "
                       "|difference| <= 0 bytes",
                       std::abs(state_at[20] - state_at[12]), Comparator::LessEqual, 0.0).shown_in("memory_vs_n"));
  ctx.claim(make_claim("error_within_bound",
                       "every point's max |T~ - T| is within the polynomial bound 2 delta/(1-delta) max|v|: "
                       "max ratio <= 1",
                       worst_error_ratio, Comparator::LessEqual, 1.0).shown_in("error_vs_n"));
  ctx.claim(make_claim("recovery_guarantee",
                       "output sketch decodes k-sparse columns with ||T_c - y_c|| <= (1+eps) min_k-sparse + eps2 "
                       "in >= 99% of seeds",
                       success, Comparator::GreaterEqual, 0.99).shown_in("recovery"));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(streaming_attention, memory_error, run,
                        ExperimentInfo("P5 streaming attention (arXiv 2311.14652)",
                                       "one-pass streaming attention: constant state against a KV cache, error bound, "
                                       "output sketch recovery")
                            .sweep()
                            .quick_seconds(15))

}  // namespace lmlab
