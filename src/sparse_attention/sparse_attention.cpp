// Sparse (top-k or mass-threshold) softmax attention: the forward kernel (P3, arXiv 2404.02690;
// Gupta et al. 2021 "Memory-efficient transformers via top-k attention", arXiv 2106.06899;
// include/lmlab/sparse_attention/sparse_attention.h).
//
// q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv] -> out [B,H,T,Dv]. Per head, rows are processed in blocks
// of R queries: the block's scores (q_blk * scale) k^T [R, S'] come from one matmul into a bounded
// buffer (S' = S, or the keys the block's last row sees when causal), never the dense [T,S] map.
// Then, in parallel over the block's rows (at::parallel_for), each row selects its kept set H_i
// (sparse_internal.h; top-k by a sampled threshold and one pass), and only then exponentiates
// and weights the kept rows of v:
//   out_i = sum_{j in H_i} e^{s_ij - m_i} v_j / sum_{j in H_i} e^{s_ij - m_i},  m_i = max_j s_ij,
// the weights and their sum in double, the weighted sum of v in the dtype of v (as a dense matmul
// would). Blocks hold ~2 MiB of scores, so a row is still in cache when it is selected. tau_i = 1 - sum_{H_i} e^{s_ij - m_i} / sum_j e^{s_ij - m_i} costs the
// row's S exponentials, paid by Mass selection anyway and by TopK only on request.
// Cost per head: T S D for the scores (as dense attention), O(T S) selection, T |H| Dv for the
// output (dense: T S Dv more, plus T S exponentials). Memory: R S scores + T |H| indices.
// Deviation: the paper analyses sparsity; the kernel itself is the standard top-k attention.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include <ATen/Parallel.h>

#include "sparse_attention/sparse_internal.h"
#include "lmlab/core/error.h"

namespace lmlab::sparse_attention {
namespace detail {

template <typename T>
int64_t select_top_k_row(const T* s, int64_t m, int64_t k, std::vector<int64_t>& order) {
  // A threshold from a strided sample of r = 8c scores: its rank-th largest, rank chosen so that
  // about 2c scores of the row lie above it. One pass collects the scores above the threshold; if
  // at least c do, the c largest are among them (the c-th largest is above the threshold too), so
  // the exact selection runs on ~2c candidates. Otherwise (rare) every score is a candidate.
  // Ties are decided by `better`, smaller position first, as in every selection here.
  using Entry = std::pair<T, int64_t>;
  const auto better = [](const Entry& a, const Entry& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const int64_t c = std::min(k, m);
  thread_local std::vector<T> sample;
  thread_local std::vector<Entry> candidates;
  std::vector<Entry>& cand = candidates;
  cand.clear();
  if (m > 16 * c) {
    const int64_t r = 8 * c, stride = m / r, rank = std::max<int64_t>(1, (2 * c * r + m - 1) / m);
    sample.resize(r);
    for (int64_t i = 0; i < r; ++i) sample[i] = s[i * stride];
    std::nth_element(sample.begin(), sample.begin() + (rank - 1), sample.end(), std::greater<T>());
    const T threshold = sample[rank - 1];
    constexpr int64_t kBlock = 16;  // a block none of whose scores passes costs one vectorisable test
    for (int64_t j0 = 0; j0 < m; j0 += kBlock) {
      const int64_t j1 = std::min(m, j0 + kBlock);
      int passes = 0;
      for (int64_t j = j0; j < j1; ++j) passes |= s[j] > threshold;
      if (!passes) continue;
      for (int64_t j = j0; j < j1; ++j)
        if (s[j] > threshold) cand.push_back({s[j], j});
    }
    if (static_cast<int64_t>(cand.size()) < c) cand.clear();
  }
  if (cand.empty())
    for (int64_t j = 0; j < m; ++j) cand.push_back({s[j], j});
  std::nth_element(cand.begin(), cand.begin() + (c - 1), cand.end(), better);
  std::sort(cand.begin(), cand.begin() + c, better);
  order.resize(c);
  for (int64_t j = 0; j < c; ++j) order[j] = cand[j].second;
  return c;
}

template int64_t select_top_k_row<float>(const float*, int64_t, int64_t, std::vector<int64_t>&);
template int64_t select_top_k_row<double>(const double*, int64_t, int64_t, std::vector<int64_t>&);

double resolved_scale(const SparseAttentionOptions& options, int64_t head_dim) {
  return options.scale() > 0 ? options.scale() : 1.0 / std::sqrt(static_cast<double>(head_dim));
}

namespace {

constexpr int64_t kPrefetch = 8;

// Where the kernel writes the rows of one head.
template <typename T>
struct HeadOutput {
  T* out;                                  // [T, Dv]
  int64_t* kept;                           // [T]
  double* tail;                            // [T] or nullptr
  std::vector<int64_t>* kept_keys;         // [T]
};

// Rows [r0, r1) of one head from their scores [r1 - r0, stride]; row i sees keys [0, visible(i)).
template <typename T>
void block_rows(const T* scores, int64_t stride, int64_t r0, int64_t r1, const T* v, int64_t dv,
                int64_t first_visible, bool causal, const SparseAttentionOptions& options, HeadOutput<T> o) {
  at::parallel_for(r0, r1, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> order;
    std::vector<T> acc(dv);
    for (int64_t i = begin; i < end; ++i) {
      const T* s = scores + (i - r0) * stride;
      const int64_t m = causal ? first_visible + i : stride;
      double max = 0, normaliser = -1;  // normaliser < 0: not computed yet
      int64_t c;
      if (options.selection() == Selection::TopK) {
        c = select_top_k_row(s, m, options.k(), order);
        max = static_cast<double>(s[order[0]]);
      } else {
        c = select_mass_row(s, m, options.eps(), order, max, normaliser);
      }
      std::fill(acc.begin(), acc.end(), T(0));
      double kept_mass = 0;
      // The kept rows of v are scattered: fetch them kPrefetch rows ahead of their use.
      const auto prefetch = [&](int64_t t) {
        const char* row = reinterpret_cast<const char*>(v + order[t] * dv);
        for (int64_t byte = 0; byte < dv * static_cast<int64_t>(sizeof(T)); byte += 64) __builtin_prefetch(row + byte);
      };
      for (int64_t t = 0; t < std::min(c, kPrefetch); ++t) prefetch(t);
      for (int64_t t = 0; t < c; ++t) {
        if (t + kPrefetch < c) prefetch(t + kPrefetch);
        const int64_t j = order[t];
        const double w = std::exp(static_cast<double>(s[j]) - max);
        kept_mass += w;
        const T* vj = v + j * dv;
        const T wt = static_cast<T>(w);
        for (int64_t d = 0; d < dv; ++d) acc[d] += wt * vj[d];
      }
      for (int64_t d = 0; d < dv; ++d) o.out[i * dv + d] = static_cast<T>(acc[d] / kept_mass);
      if (o.tail) {
        if (normaliser < 0) {
          normaliser = 0;
          for (int64_t j = 0; j < m; ++j) normaliser += std::exp(static_cast<double>(s[j]) - max);
        }
        o.tail[i] = std::max(0.0, 1.0 - kept_mass / normaliser);
      }
      o.kept[i] = c;
      o.kept_keys[i].assign(order.begin(), order.begin() + c);
    }
  });
}

}  // namespace

SparseAttentionResult sparse_attention_forward(const torch::Tensor& q_in, const torch::Tensor& k_in,
                                               const torch::Tensor& v_in, const SparseAttentionOptions& options) {
  torch::NoGradGuard no_grad;
  const int64_t b = q_in.size(0), h = q_in.size(1), t = q_in.size(2), d = q_in.size(3);
  const int64_t s = k_in.size(2), dv = v_in.size(3), heads = b * h;
  const bool causal = options.causal();
  const torch::Tensor q = q_in.detach().reshape({heads, t, d}) * resolved_scale(options, d);
  const torch::Tensor k = k_in.detach().reshape({heads, s, d});
  const torch::Tensor v = v_in.detach().reshape({heads, s, dv}).contiguous();
  const bool want_tail = options.selection() == Selection::Mass || options.tail_mass();

  SparseAttentionResult r;
  r.out = torch::empty({heads, t, dv}, q.options());
  r.kept = torch::empty({heads, t}, q.options().dtype(torch::kLong));
  if (want_tail) r.tail_mass = torch::empty({heads, t}, q.options().dtype(torch::kDouble));
  std::vector<std::vector<int64_t>> kept_keys(heads * t);

  const int64_t budget = (int64_t{2} << 20) / static_cast<int64_t>(q.element_size());
  const int64_t rows = options.block_rows() > 0 ? options.block_rows() : std::max<int64_t>(1, budget / s);
  const int64_t first_visible = s - t + 1;  // causal: row i sees keys [0, first_visible + i)
  for (int64_t head = 0; head < heads; ++head) {
    for (int64_t r0 = 0; r0 < t; r0 += rows) {
      const int64_t r1 = std::min(t, r0 + rows);
      const int64_t width = causal ? first_visible + r1 - 1 : s;
      const torch::Tensor scores = torch::mm(q[head].narrow(0, r0, r1 - r0), k[head].narrow(0, 0, width).t());
      AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "sparse_attention", [&] {
        const HeadOutput<scalar_t> o{r.out[head].data_ptr<scalar_t>(), r.kept[head].data_ptr<int64_t>(),
                                     want_tail ? r.tail_mass[head].data_ptr<double>() : nullptr,
                                     kept_keys.data() + head * t};
        block_rows<scalar_t>(scores.contiguous().data_ptr<scalar_t>(), width, r0, r1,
                             v[head].data_ptr<scalar_t>(), dv, first_visible, causal, options, o);
      });
    }
  }

  const int64_t width = heads * t > 0 ? r.kept.max().item<int64_t>() : 0;
  r.indices = torch::full({heads * t, width}, -1, r.kept.options());
  int64_t* idx = r.indices.data_ptr<int64_t>();
  for (int64_t row = 0; row < heads * t; ++row)
    std::copy(kept_keys[row].begin(), kept_keys[row].end(), idx + row * width);
  r.out = r.out.view({b, h, t, dv});
  r.kept = r.kept.view({b, h, t});
  r.indices = r.indices.view({b, h, t, width});
  if (want_tail) r.tail_mass = r.tail_mass.view({b, h, t});
  return r;
}

}  // namespace detail

void check_sparse_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const SparseAttentionOptions& options) {
  LMLAB_CHECK(q.defined() && k.defined() && v.defined(), UsageError, "sparse attention: q, k and v must be defined");
  LMLAB_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, UsageError,
              "sparse attention expects q [B,H,T,D], k [B,H,S,D] and v [B,H,S,Dv] (rank 4); got q ", q.sizes(),
              ", k ", k.sizes(), ", v ", v.sizes());
  LMLAB_CHECK(q.size(0) == k.size(0) && q.size(0) == v.size(0) && q.size(1) == k.size(1) && q.size(1) == v.size(1),
              UsageError, "sparse attention: q, k and v disagree on B or H: q ", q.sizes(), ", k ", k.sizes(), ", v ",
              v.sizes());
  LMLAB_CHECK(q.size(3) == k.size(3), UsageError, "sparse attention: head dim D of q (", q.size(3),
              ") differs from k's (", k.size(3), "); q and k must share D");
  LMLAB_CHECK(k.size(2) == v.size(2), UsageError, "sparse attention: k has ", k.size(2), " keys but v has ",
              v.size(2), " rows; they must match");
  LMLAB_CHECK(k.size(2) >= 1 && q.size(3) >= 1 && v.size(3) >= 1, UsageError,
              "sparse attention needs S >= 1 keys and D, Dv >= 1; got k ", k.sizes(), ", v ", v.sizes());
  LMLAB_CHECK((q.scalar_type() == torch::kFloat || q.scalar_type() == torch::kDouble) &&
                  k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              UsageError, "sparse attention needs q, k, v all float32 or all float64; got ", q.dtype(), ", ",
              k.dtype(), ", ", v.dtype());
  LMLAB_CHECK(q.device().is_cpu() && k.device().is_cpu() && v.device().is_cpu(), UsageError,
              "sparse attention runs on CPU tensors; move q, k, v to the CPU");
  const int64_t s = k.size(2);
  LMLAB_CHECK(options.k() >= 1, UsageError, "sparse attention: k (entries kept per row) must be >= 1; got ",
              options.k());
  LMLAB_CHECK(options.selection() != Selection::TopK || options.k() <= s, UsageError,
              "sparse attention: k = ", options.k(), " is larger than the number of keys n = ", s,
              "; choose 1 <= k <= n (k = n is dense attention)");
  LMLAB_CHECK(options.eps() > 0 && options.eps() < 1, UsageError,
              "sparse attention: eps (the softmax mass a row may drop) must lie in (0, 1); got ", options.eps());
  LMLAB_CHECK(std::isfinite(options.scale()) && options.scale() >= 0, UsageError,
              "sparse attention: scale must be finite and >= 0 (0: 1/sqrt(D)); got ", options.scale());
  LMLAB_CHECK(options.block_rows() >= 0, UsageError, "sparse attention: block_rows must be >= 0 (0: automatic); got ",
              options.block_rows());
  LMLAB_CHECK(!options.causal() || q.size(2) <= s, UsageError,
              "causal sparse attention needs at least as many keys as queries; got ", q.size(2), " queries and ", s,
              " keys");
  for (const auto& [x, name] : {std::pair<const torch::Tensor&, const char*>{q, "q"}, {k, "k"}, {v, "v"}})
    LMLAB_CHECK(torch::isfinite(x.detach()).all().item<bool>(), DataError, "sparse attention: ", name,
                " holds NaN or Inf; check the inputs (or the layer that produced them)");
}

}  // namespace lmlab::sparse_attention
