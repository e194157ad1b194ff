// StreamingAttention: one-pass attention with O(t d) state and an output sketch
// (include/lmlab/streaming_attention/streaming_attention.h).
#include "lmlab/streaming_attention/streaming_attention.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "lmlab/core/error.h"

namespace lmlab::streaming_attention {
namespace {

constexpr int64_t kFeatureChunkElements = int64_t{1} << 20;  // 8 MiB of float64 features per chunk
// Causal chunks also form the in-chunk c x c score block: c t extra work per token, so keep c small.
constexpr int64_t kCausalChunk = 32;

double mib(double bytes) { return bytes / (1 << 20); }

double score_scale(const StreamingAttentionOptions& o) {
  return o.scale() == 0 ? 1.0 / static_cast<double>(o.dim()) : o.scale();
}

// Validates the options, fits the polynomial and checks the state fits max_state_bytes before
// anything of size t is allocated.
PolynomialFeatures make_features(const StreamingAttentionOptions& o) {
  const int64_t d = o.dim();
  LMLAB_CHECK(d >= 1, UsageError, "StreamingAttention needs dim d >= 1, got ", d);
  LMLAB_CHECK(o.entry_bound() > 0 && std::isfinite(o.entry_bound()), UsageError,
              "StreamingAttention entry_bound B must be finite and > 0, got ", o.entry_bound());
  LMLAB_CHECK(o.scale() >= 0 && std::isfinite(o.scale()), UsageError,
              "StreamingAttention scale must be finite and >= 0 (0: 1/d), got ", o.scale());
  LMLAB_CHECK(o.chunk() >= 0 && o.max_state_bytes() >= 1, UsageError,
              "StreamingAttention needs chunk >= 0 (0: automatic) and max_state_bytes >= 1, got ", o.chunk(), " and ",
              o.max_state_bytes());
  if (o.output_sketch())
    LMLAB_CHECK(o.output_sketch()->columns() == d, UsageError, "the output sketch must have columns = d = ", d,
                ", got ", o.output_sketch()->columns());
  const double c = score_scale(o);
  const double radius = c * static_cast<double>(d) * o.entry_bound() * o.entry_bound();
  ExpPolynomial polynomial(radius, o.polynomial());
  const int64_t g = polynomial.degree();
  const int64_t t = polynomial_feature_dim(d, g);
  const double state = (static_cast<double>(t) * static_cast<double>(d + 2)) * 8;
  const double sketch = o.output_sketch() ? static_cast<double>(o.output_sketch()->rows()) *
                                                static_cast<double>(o.output_sketch()->buckets()) * d * 8
                                          : 0.0;
  LMLAB_CHECK(state + sketch <= static_cast<double>(o.max_state_bytes()), UsageError,
              "StreamingAttention: degree ", g, " in d = ", d, " dimensions has t = C(d+g, g) = ", t,
              " features; the state would need ", mib(state), " MiB for S and z", o.output_sketch() ? " plus " : "",
              o.output_sketch() ? std::to_string(mib(sketch)) + " MiB for the output sketch" : std::string(),
              ", above max_state_bytes = ", mib(static_cast<double>(o.max_state_bytes())),
              " MiB. Lower the degree (a larger max_rel_error or smaller entries), use a smaller d, or raise "
              "max_state_bytes");
  return PolynomialFeatures(d, c, std::move(polynomial));
}

}  // namespace

StreamingAttention::StreamingAttention(const StreamingAttentionOptions& options)
    : options_(options), features_(make_features(options)) {
  const int64_t t = features_.feature_dim();
  chunk_ = options.chunk() > 0 ? options.chunk() : std::max<int64_t>(1, kFeatureChunkElements / t);
  state_ = torch::zeros({options.dim() + 1, t}, torch::kDouble);
  if (options.output_sketch()) sketch_ = std::make_unique<CountSketch>(*options.output_sketch());
}

torch::Tensor StreamingAttention::checked(const torch::Tensor& x, const char* what, bool bounded) const {
  const int64_t d = options_.dim();
  LMLAB_CHECK(x.defined() && (x.dim() == 1 || x.dim() == 2) && x.size(-1) == d, UsageError,
              "StreamingAttention(d = ", d, "): the ", what, " have shape ", (x.defined() ? x.sizes() : at::IntArrayRef{}),
              "; pass [m, ", d, "] (or one token [", d, "])");
  LMLAB_CHECK(x.is_floating_point(), UsageError, "StreamingAttention: the ", what, " must be floating point, got ",
              x.dtype());
  const torch::Tensor xd = (x.dim() == 1 ? x.unsqueeze(0) : x).to(torch::kCPU, torch::kDouble).contiguous();
  const torch::Tensor bad = ~torch::isfinite(xd);
  if (bad.any().item<bool>()) {
    const torch::Tensor at = torch::nonzero(bad)[0];
    throw UsageError(detail::concat("StreamingAttention: the ", what, " hold NaN or Inf, the first at token ",
                                    at[0].item<int64_t>(), ", entry ", at[1].item<int64_t>(),
                                    "; nothing was added: clean the input and push again"));
  }
  if (bounded && xd.size(0) > 0) {
    const torch::Tensor largest = xd.abs().max();
    LMLAB_CHECK(largest.item<double>() <= options_.entry_bound(), UsageError, "StreamingAttention: the ", what,
                " have an entry of magnitude ", largest.item<double>(), " above entry_bound B = ",
                options_.entry_bound(), "; the polynomial covers scores |s| <= R = ", score_radius(),
                " only. Raise entry_bound (a larger R needs a higher degree) or rescale the tokens");
  }
  return xd;
}

void StreamingAttention::push(const torch::Tensor& k, const torch::Tensor& v) {
  const torch::Tensor kd = checked(k, "keys", true), vd = checked(v, "values", false);
  LMLAB_CHECK(kd.size(0) == vd.size(0), UsageError, "StreamingAttention::push: ", kd.size(0), " keys but ",
              vd.size(0), " values");
  if (kd.size(0) == 0) return;
  max_abs_value_ = std::max(max_abs_value_, vd.abs().max().item<double>());
  const torch::Tensor ones = torch::ones({kd.size(0), 1}, torch::kDouble);
  const torch::Tensor values = torch::cat({vd, ones}, 1);  // [m, d + 1]: S and z in one GEMM
  for (int64_t begin = 0; begin < kd.size(0); begin += chunk_) {
    const int64_t c = std::min(chunk_, kd.size(0) - begin);
    state_.addmm_(values.narrow(0, begin, c).t(), features_.phi2(kd.narrow(0, begin, c)));
  }
  tokens_ += kd.size(0);
}

torch::Tensor StreamingAttention::answer(const torch::Tensor& sums) {
  const int64_t d = options_.dim();
  const torch::Tensor out = sums.narrow(1, 0, d) / sums.narrow(1, d, 1);
  if (sketch_) sketch_->add(out, queries_);
  queries_ += out.size(0);
  return out;
}

torch::Tensor StreamingAttention::query(const torch::Tensor& q) {
  LMLAB_CHECK(tokens_ > 0, UsageError,
              "StreamingAttention::query before any key: push(k, v) first, or use causal(q, k, v) for one pass");
  const torch::Tensor qd = checked(q, "queries", true);
  std::vector<torch::Tensor> parts = {torch::empty({0, options_.dim()}, torch::kDouble)};
  for (int64_t begin = 0; begin < qd.size(0); begin += chunk_) {
    const torch::Tensor p1 = features_.phi1(qd.narrow(0, begin, std::min(chunk_, qd.size(0) - begin)));
    parts.push_back(answer(state_.mm(p1.t()).t()));
  }
  return torch::cat(parts).to(q.scalar_type());
}

torch::Tensor StreamingAttention::causal(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  const torch::Tensor qd = checked(q, "queries", true), kd = checked(k, "keys", true), vd = checked(v, "values", false);
  LMLAB_CHECK(qd.size(0) == kd.size(0) && kd.size(0) == vd.size(0), UsageError,
              "StreamingAttention::causal needs as many queries, keys and values, got ", qd.size(0), ", ", kd.size(0),
              ", ", vd.size(0));
  std::vector<torch::Tensor> parts = {torch::empty({0, options_.dim()}, torch::kDouble)};
  if (vd.size(0) == 0) return parts.front().to(q.scalar_type());
  max_abs_value_ = std::max(max_abs_value_, vd.abs().max().item<double>());
  const torch::Tensor values = torch::cat({vd, torch::ones({vd.size(0), 1}, torch::kDouble)}, 1);
  const int64_t step = std::min(chunk_, kCausalChunk);
  for (int64_t begin = 0; begin < qd.size(0); begin += step) {
    const int64_t c = std::min(step, qd.size(0) - begin);
    const torch::Tensor p1 = features_.phi1(qd.narrow(0, begin, c));
    const torch::Tensor p2 = features_.phi2(kd.narrow(0, begin, c));
    const torch::Tensor va = values.narrow(0, begin, c);
    const torch::Tensor in_chunk = p1.mm(p2.t()).tril_();  // token i sees keys <= i of its chunk
    const torch::Tensor sums = p1.mm(state_.t()).addmm_(in_chunk, va);
    state_.addmm_(va.t(), p2);
    tokens_ += c;
    parts.push_back(answer(sums));
  }
  return torch::cat(parts).to(q.scalar_type());
}

SparseColumns StreamingAttention::decode(int64_t k) const {
  LMLAB_CHECK(sketch_ != nullptr, UsageError,
              "StreamingAttention::decode needs an output sketch: set StreamingAttentionOptions::output_sketch");
  return sketch_->decode(k, queries_);
}

double StreamingAttention::output_error_bound() const {
  const double delta = features_.polynomial().rel_error_bound();
  return 2 * delta / (1 - delta) * max_abs_value_;
}

int64_t StreamingAttention::state_bytes() const {
  return (state_.numel() + features_.weights().numel()) * 8 + (sketch_ ? sketch_->bytes() : 0);
}

}  // namespace lmlab::streaming_attention
