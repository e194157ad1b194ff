// CountSketch with a k-sparse per-column decoder (include/lmlab/streaming_attention/count_sketch.h).
#include "lmlab/streaming_attention/count_sketch.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "lmlab/core/error.h"

namespace lmlab::streaming_attention {
namespace {

constexpr uint64_t kPrime = (uint64_t{1} << 61) - 1;  // Mersenne prime 2^61 - 1
constexpr int64_t kDecodeChunk = 1 << 16;

uint64_t mul_mod(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  uint64_t r = static_cast<uint64_t>(p & kPrime) + static_cast<uint64_t>(p >> 61);
  return r >= kPrime ? r - kPrime : r;
}

// c[0] + c[1] x + c[2] x^2 + c[3] x^3 mod p, x < 2^61.
uint64_t poly_mod(const uint64_t* c, uint64_t x) {
  uint64_t r = c[3];
  for (int j = 2; j >= 0; --j) {
    r = mul_mod(r, x) + c[j];
    if (r >= kPrime) r -= kPrime;
  }
  return r;
}

// KL(1/2 || p) in nats.
double kl_half(double p) { return 0.5 * std::log(0.5 / p) + 0.5 * std::log(0.5 / (1 - p)); }

}  // namespace

CountSketchOptions CountSketchOptions::for_guarantee(int64_t k, double eps, double failure, int64_t universe,
                                                     int64_t columns) {
  LMLAB_CHECK(k >= 1 && universe >= 1 && columns >= 1, UsageError,
              "CountSketch sizes need k >= 1, universe >= 1 and columns >= 1; got k = ", k, ", universe = ", universe,
              ", columns = ", columns);
  LMLAB_CHECK(k <= universe, UsageError, "CountSketch: sparsity k = ", k, " exceeds the number of rows n = ",
              universe, "; k must be at most n");
  LMLAB_CHECK(eps > 0 && std::isfinite(eps) && failure > 0 && failure < 1, UsageError,
              "CountSketch guarantee needs eps > 0 and failure probability in (0, 1); got eps = ", eps,
              ", failure = ", failure);
  const double buckets = std::ceil(144.0 * static_cast<double>(k) / (eps * eps));
  LMLAB_CHECK(buckets < 1e12, UsageError, "CountSketch: eps = ", eps, " with k = ", k, " needs ", buckets,
              " buckets per row; ask for a larger eps");
  const double p = static_cast<double>(k) / buckets + 1.0 / 16;
  int64_t rows = static_cast<int64_t>(
      std::ceil(std::log(static_cast<double>(universe) * static_cast<double>(columns) / failure) / kl_half(p)));
  rows = std::max<int64_t>(rows, 1);
  if (rows % 2 == 0) ++rows;
  return CountSketchOptions(rows, static_cast<int64_t>(buckets), columns);
}

torch::Tensor SparseColumns::dense(int64_t n) const {
  LMLAB_CHECK(indices.numel() == 0 || indices.max().item<int64_t>() < n, UsageError,
              "SparseColumns::dense(", n, "): an index is >= n");
  return torch::zeros({n, values.size(1)}, torch::kDouble).scatter_(0, indices, values);
}

CountSketch::CountSketch(const CountSketchOptions& options) : options_(options) {
  const int64_t r = options.rows(), b = options.buckets(), d = options.columns();
  LMLAB_CHECK(r >= 1 && b >= 1 && d >= 1, UsageError, "CountSketch needs rows, buckets and columns >= 1, got r = ",
              r, ", b = ", b, ", D = ", d, " (CountSketchOptions::for_guarantee picks them from k and eps)");
  LMLAB_CHECK(static_cast<double>(r) * b * d <= 1e9, UsageError, "CountSketch of r = ", r, " x b = ", b,
              " x D = ", d, " would hold ", static_cast<double>(r) * b * d * 8 / (1 << 30),
              " GiB; choose fewer rows or buckets");
  std::mt19937_64 gen(options.seed());
  for (auto* coeffs : {&bucket_coeffs_, &sign_coeffs_})
    for (int64_t j = 0; j < 4 * r; ++j) coeffs->push_back((gen() >> 3) % kPrime);
  table_ = torch::zeros({r, b, d}, torch::kDouble);
}

std::pair<int64_t, double> CountSketch::cell(int64_t l, uint64_t index) const {
  const auto bucket = static_cast<int64_t>(poly_mod(&bucket_coeffs_[4 * l], index) % options_.buckets());
  const double sign = (poly_mod(&sign_coeffs_[4 * l], index) & 1) ? 1.0 : -1.0;
  return {(l * options_.buckets() + bucket) * options_.columns(), sign};
}

int64_t CountSketch::bytes() const {
  return table_.numel() * 8 + static_cast<int64_t>(bucket_coeffs_.size() + sign_coeffs_.size()) * 8;
}

void CountSketch::add(const torch::Tensor& rows, int64_t first_index) {
  const int64_t r = options_.rows(), d = options_.columns();
  LMLAB_CHECK(rows.dim() == 2 && rows.size(1) == d, UsageError, "CountSketch::add needs rows of shape [m, ", d,
              "], got ", rows.sizes());
  LMLAB_CHECK(first_index >= 0 && first_index <= (int64_t{1} << 60) - rows.size(0), UsageError,
              "CountSketch::add: row indices must lie in [0, 2^60), got first index ", first_index);
  const torch::Tensor x = rows.to(torch::kDouble).contiguous();
  LMLAB_CHECK(torch::isfinite(x).all().item<bool>(), UsageError,
              "CountSketch::add got NaN or Inf in its rows; the sketch would be corrupt for every row sharing a bucket");
  const double* xs = x.data_ptr<double>();
  double* y = table_.data_ptr<double>();
  for (int64_t i = 0; i < x.size(0); ++i) {
    const auto index = static_cast<uint64_t>(first_index + i);
    for (int64_t l = 0; l < r; ++l) {
      const auto [offset, sign] = cell(l, index);
      double* dst = y + offset;
      for (int64_t c = 0; c < d; ++c) dst[c] += sign * xs[i * d + c];
    }
  }
}

torch::Tensor CountSketch::estimate(int64_t first_index, int64_t m) const {
  const int64_t r = options_.rows(), d = options_.columns();
  LMLAB_CHECK(first_index >= 0 && m >= 0, UsageError, "CountSketch::estimate needs first_index, m >= 0, got ",
              first_index, ", ", m);
  torch::Tensor out = torch::empty({m, d}, torch::kDouble);
  double* o = out.data_ptr<double>();
  const double* y = table_.data_ptr<double>();
  std::vector<double> per_row(r * d);
  for (int64_t i = 0; i < m; ++i) {
    const auto index = static_cast<uint64_t>(first_index + i);
    for (int64_t l = 0; l < r; ++l) {
      const auto [offset, sign] = cell(l, index);
      for (int64_t c = 0; c < d; ++c) per_row[c * r + l] = sign * y[offset + c];
    }
    // The lower median for even r.
    for (int64_t c = 0; c < d; ++c) {
      double* v = per_row.data() + c * r;
      std::nth_element(v, v + (r - 1) / 2, v + r);
      o[i * d + c] = v[(r - 1) / 2];
    }
  }
  return out;
}

SparseColumns CountSketch::decode(int64_t k, int64_t universe) const {
  LMLAB_CHECK(universe >= 1, UsageError, "CountSketch::decode: nothing to decode, the universe of rows is ", universe,
              "; add rows first");
  LMLAB_CHECK(k >= 1 && k <= universe, UsageError, "CountSketch::decode: sparsity k = ", k,
              " must be in [1, n] with n = ", universe, " rows");
  const int64_t d = options_.columns();
  torch::Tensor top_values = torch::empty({0, d}, torch::kDouble);
  torch::Tensor top_indices = torch::empty({0, d}, torch::kLong);
  for (int64_t begin = 0; begin < universe; begin += kDecodeChunk) {
    const int64_t m = std::min(kDecodeChunk, universe - begin);
    const torch::Tensor values = torch::cat({top_values, estimate(begin, m)});
    const torch::Tensor indices =
        torch::cat({top_indices, torch::arange(begin, begin + m, torch::kLong).unsqueeze(1).expand({m, d})});
    const torch::Tensor order = std::get<1>(values.abs().topk(std::min<int64_t>(k, values.size(0)), 0));
    top_values = values.gather(0, order);
    top_indices = indices.gather(0, order);
  }
  return {top_indices, top_values};
}

}  // namespace lmlab::streaming_attention
