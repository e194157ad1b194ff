// The Python module's calls with fuzzed shapes, dtypes, layouts and options. The bindings' own
// argument checks are C++ (python/argument_checks.cpp: BitLinear options and packing, sparse
// attention options, polynomial features), so this target calls them and then the library function
// each binding calls, with what Python could pass: tensors of rank 0 to 4, sizes 0 to 5, float,
// double, int64 or bool, contiguous or not, NaN and Inf entries; counts from -2^63 to 2^63 - 1;
// numbers including 0, -0, NaN, Inf and 1e300. The checks written in Python (lmlab/*.py, such as
// act_bits in {0, 8}) are bypassed on purpose: the C++ below them must hold on its own. Any input
// must give a result or an lmlab::Error (ValueError or OSError in Python), never a crash, a raw
// LibTorch error (RuntimeError with a C++ trace) or a huge allocation.
#include <cmath>
#include <limits>
#include <string>

#include "argument_checks.h"
#include "fuzz_target.h"
#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"
#include "lmlab/onebit/bit_linear.h"
#include "lmlab/onebit/quantize.h"
#include "lmlab/sparse_attention/mass_sparsity.h"
#include "lmlab/streaming_attention/exp_polynomial.h"
#include "lmlab/streaming_attention/streaming_attention.h"

namespace {

// Reads the input from the front; zeros once it runs out.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), left_(size) {}
  uint8_t byte() { return left_ > 0 ? (--left_, *data_++) : 0; }
  bool flag() { return byte() & 1; }
  // Mostly small counts, sometimes an extreme one.
  int64_t count() {
    static const int64_t extreme[] = {0, -1, int64_t{1} << 20, int64_t{1} << 40, std::numeric_limits<int64_t>::max(),
                                      std::numeric_limits<int64_t>::min(), 64, 65};
    const uint8_t b = byte();
    return b < 0xf8 ? b % 9 : extreme[b - 0xf8];
  }
  double number() {
    static const double table[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-3, 1e-300, 1e300,
                                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN(), 0.999999, 30.0, -7.5, 1e9};
    const uint8_t b = byte();
    return b < 16 ? table[b] : static_cast<int8_t>(b) / 8.0;
  }
  // A tensor of rank 0 to 4 with sizes 0 to 5, of float, double, int64 or bool, maybe transposed.
  torch::Tensor tensor() {
    const int rank = byte() % 5;
    std::vector<int64_t> sizes;
    for (int i = 0; i < rank; ++i) sizes.push_back(byte() % 6);
    static const torch::ScalarType types[] = {torch::kFloat, torch::kFloat, torch::kFloat, torch::kDouble,
                                              torch::kLong, torch::kBool};
    const torch::ScalarType type = types[byte() % 6];
    torch::Tensor t = torch::empty(sizes, torch::kDouble);
    double* values = t.data_ptr<double>();
    for (int64_t i = 0; i < t.numel(); ++i) values[i] = number();
    t = t.to(type);
    if (rank >= 2 && flag()) t = t.transpose(-1, -2);
    return t;
  }
  std::string choice(std::initializer_list<const char*> names) {
    const uint8_t b = byte();
    return b % (names.size() + 1) == names.size() ? "other" : names.begin()[b % (names.size() + 1)];
  }

 private:
  const uint8_t* data_;
  size_t left_;
};

void call(Input& in) {
  using namespace lmlab;
  torch::NoGradGuard no_grad;
  switch (in.byte() % 8) {
    case 0: {  // attention_flash, attention_composed, attention_exact
      const int which = in.byte() % 3;
      const auto q = in.tensor(), k = in.tensor(), v = in.tensor();
      const bool causal = in.flag();
      if (which == 0) flash_attention(q, k, v, causal);
      else if (which == 1) composed_attention(q, k, v, causal);
      else exact_attention(q, k, v, causal);
      break;
    }
    case 1: {  // attention_sparse
      const auto q = in.tensor(), k = in.tensor(), v = in.tensor();
      const auto selection = in.choice({"top_k", "mass"});
      const int64_t top_k = in.count();
      const double eps = in.number();
      const bool causal = in.flag();
      const double scale = in.number();
      const bool tail = in.flag();
      sparse_attention::sparse_attention(
          q, k, v, lmlab_python::sparse_attention_options(selection, top_k, eps, causal, scale, tail, in.count()));
      break;
    }
    case 2: {  // attention_gathered
      const auto q = in.tensor(), k = in.tensor(), v = in.tensor(), indices = in.tensor();
      sparse_attention::gathered_attention(q, k, v, indices, in.number());
      break;
    }
    case 3: {  // attention_k_eps_*, attention_normal_*
      const auto t = in.tensor();
      const double eps = in.number();
      switch (in.byte() % 4) {
        case 0: sparse_attention::k_eps_from_scores(t, eps); break;
        case 1: sparse_attention::k_eps_from_probabilities(t, eps); break;
        case 2: sparse_attention::k_eps_gaussian_law(in.number(), in.number(), eps); break;
        default: sparse_attention::normal_quantile(eps), sparse_attention::normal_tail(in.number());
      }
      break;
    }
    case 4: {  // onebit_quantize_weight, onebit_quantize_activations_int8
      const auto t = in.tensor();
      if (in.flag()) {
        onebit::quantize_activations_int8(t);
      } else {
        const auto quant = onebit::weight_quant_from_name(in.choice({"binary", "ternary"}));
        onebit::quantize_weight(t, onebit::WeightQuantOptions().quant(quant).centered(in.flag()).scaled(in.flag()));
      }
      break;
    }
    case 5:    // onebit_bit_linear
    case 6: {  // onebit_pack, then the packed layer's forward
      const bool pack = in.byte() % 2;
      const auto x = in.tensor(), w = in.tensor();
      const torch::Tensor b = in.flag() ? in.tensor() : torch::Tensor();
      const auto quant = in.choice({"binary", "ternary"});
      const bool centered = in.flag(), scaled = in.flag(), input_norm = in.flag();
      const auto options = lmlab_python::bit_linear_options(w, b.defined(), quant, centered, scaled,
                                                             static_cast<int>(in.count()), input_norm);
      if (pack) lmlab_python::pack_weights(w, b, options)->forward(x);
      else onebit::bit_linear(x, w, b, options);
      break;
    }
    default: {  // AttentionExpPolynomial, AttentionPolynomialFeatures.phi1/phi2, AttentionStreaming
      using namespace lmlab::streaming_attention;
      const double radius = in.number();
      const auto poly = ExpPolynomialOptions().degree(in.count()).max_rel_error(in.number()).max_degree(in.count());
      const int64_t dim = in.count();
      if (in.flag()) {
        const PolynomialFeatures f(dim, in.number(), ExpPolynomial(radius, poly));
        lmlab_python::checked_features(f, in.tensor(), in.flag());
      } else {
        const int64_t kib = in.count();  // max_state_bytes in KiB, or extreme as it is
        StreamingAttention s(StreamingAttentionOptions(dim).entry_bound(radius).scale(in.number()).polynomial(poly)
                                 .max_state_bytes(kib >= 0 && kib < (int64_t{1} << 40) ? kib * 1024 : kib)
                                 .chunk(in.count()));
        const auto k = in.tensor(), v = in.tensor();
        s.push(k, v);
        s.query(in.tensor());
      }
    }
  }
}

}  // namespace

// One call of each kind on small, well-formed arguments (the operation byte, then its arguments).
LMLAB_FUZZ_SEEDS(pyargs) {
  const std::string tensor_2x3 = std::string("\x02\x02\x03\x00", 4) + "\x10\x20\x30\x40\x50\x60" + "\x00";
  const std::string bhtd = std::string("\x04\x01\x01\x02\x03\x00", 6) + std::string(6, '\x12') + "\x00";
  std::vector<std::string> seeds;
  for (char op = 0; op < 8; ++op) {
    const std::string args = op <= 2 ? bhtd + bhtd + bhtd + bhtd : tensor_2x3 + tensor_2x3 + tensor_2x3;
    seeds.push_back(std::string(1, op) + std::string(1, '\x01') + args + std::string(16, '\x02'));
  }
  return seeds;
}

LMLAB_FUZZ_TARGET(pyargs) {
  Input in(data, size);
  try {
    call(in);
  } catch (const lmlab::Error&) {
  } catch (const c10::Error& e) {
    lmlab::fuzz::property_broken(std::string("a raw LibTorch error escaped: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    lmlab::fuzz::property_broken(std::string("a non-lmlab exception escaped: ") + e.what());
  }
  return 0;
}
