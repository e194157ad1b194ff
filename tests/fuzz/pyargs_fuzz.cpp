// The Python module's calls with fuzzed shapes, dtypes, layouts and options. The bindings' own
// argument checks are C++ (python/argument_checks.cpp: BitLinear options and packing, sparse
// attention options, polynomial features), so this target calls them and then the library function
// each binding calls (attention, 1-bit, sparse and streaming attention, NTK-Attention and its
// modules, the privacy accountant, metrics, per-example gradients and attention inversion, the
// copyright loss, regression and solvers), with what Python could pass: tensors of rank 0 to 4, sizes 0 to 5, float,
// double, int64 or bool, contiguous or not, NaN and Inf entries; counts from -2^63 to 2^63 - 1;
// numbers including 0, -0, NaN, Inf and 1e300. The checks written in Python (lmlab/*.py, such as
// act_bits in {0, 8}) are bypassed on purpose: the C++ below them must hold on its own. Any input
// must give a result or an lmlab::Error (ValueError or OSError in Python), never a crash, a raw
// LibTorch error (RuntimeError with a C++ trace) or a huge allocation. Iteration counts stay small
// (a Python caller asking for 2^63 iterations gets them).
#include <cmath>
#include <limits>
#include <string>

#include "argument_checks.h"
#include "fuzz_target.h"
#include "lmlab/copyright/extraction_audit.h"
#include "lmlab/copyright/protected_loss.h"
#include "lmlab/copyright/softmax_data.h"
#include "lmlab/copyright/softmax_solvers.h"
#include "lmlab/core/error.h"
#include "lmlab/models/flash_attention.h"
#include "lmlab/ntk_attention/lora.h"
#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/ntk_attention/prefix_attention.h"
#include "lmlab/onebit/bit_linear.h"
#include "lmlab/onebit/quantize.h"
#include "lmlab/privacy/attention_inversion.h"
#include "lmlab/privacy/dp_sgd.h"
#include "lmlab/privacy/image_metrics.h"
#include "lmlab/privacy/per_example_grads.h"
#include "lmlab/privacy/rdp_accountant.h"
#include "lmlab/privacy/text_metrics.h"
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
  int64_t small() { return byte() % 9; }  // an iteration count
  std::vector<double> numbers() {
    std::vector<double> v(byte() % 4);
    for (double& x : v) x = number();
    return v;
  }
  std::string choice(std::initializer_list<const char*> names) {
    const uint8_t b = byte();
    return b % (names.size() + 1) == names.size() ? "other" : names.begin()[b % (names.size() + 1)];
  }

 private:
  const uint8_t* data_;
  size_t left_;
};

// Per-example losses sum_j (x W^T)_ij of a linear layer where x [B, in] and W [out, in] fit (a
// graph the per-example machinery supports), else x itself (which it must refuse or handle).
torch::Tensor linear_losses(const torch::Tensor& x, const torch::Tensor& w) {
  const bool fits = x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(1) && x.is_floating_point() &&
                    x.scalar_type() == w.scalar_type() && w.requires_grad();
  return fits ? torch::mm(x, w.t()).sum(1) : x;
}

// The operation and sub-operation (-1: none) of the current input, for the finding's message.
int g_call[2];

void call(Input& in) {
  using namespace lmlab;
  torch::NoGradGuard no_grad;
  switch (g_call[0] = in.byte() % 13, g_call[1] = -1, g_call[0]) {
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
      switch (g_call[1] = in.byte() % 4) {
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
    case 8: {  // attention_ntk*, the NTK feature map and prefix state
      using namespace lmlab::ntk_attention;
      const auto q = in.tensor(), k = in.tensor(), v = in.tensor(), z = in.tensor(), kappa = in.tensor();
      const bool causal = in.flag();
      const torch::Tensor mask = in.flag() ? in.tensor() : torch::Tensor();
      switch (g_call[1] = in.byte() % 5) {
        case 0: ntk_attention::ntk_attention(q, k, v, z, kappa, causal, mask); break;
        case 1: composed_ntk_attention(q, k, v, z, kappa, causal, mask); break;
        case 2: fused_ntk_attention(q, k, v, z, kappa, causal); break;
        case 3: ntk_feature_map(q); break;
        default: ntk_prefix_state(q, k);
      }
      break;
    }
    case 9: {  // AttentionNtkModule, AttentionPrefixModule, AttentionLoraModule: made, then called
      using namespace lmlab::ntk_attention;
      const int64_t heads = in.count(), head_dim = in.count();
      const int which = in.byte() % 3;
      if (which == 0) {
        NtkAttention m(heads, head_dim, NtkAttentionOptions().kappa_init(in.number()).z_init_std(in.number()));
        m.forward(in.tensor(), in.tensor(), in.tensor(), in.flag());
      } else if (which == 1) {
        const auto o = PrefixAttentionOptions(in.count()).reparameterize(in.flag()).hidden(in.count()).init_std(in.number());
        PrefixAttention m(heads, head_dim, o);
        m.forward(in.tensor(), in.tensor(), in.tensor(), in.flag());
      } else {
        LoraLinearImpl m(heads, head_dim, in.flag(), LoraOptions(in.count()).alpha(in.number()));
        m.forward(in.tensor());
      }
      break;
    }
    case 10: {  // privacy_rdp, privacy_epsilon, privacy_noise_multiplier, DPSGD
      using namespace lmlab::privacy;
      const double q = in.number(), sigma = in.number(), delta = in.number();
      const int64_t steps = in.count();
      const std::vector<double> orders = in.numbers();
      AccountantOptions o;
      if (!orders.empty()) o.orders(orders);
      o.conversion(in.flag() ? RdpConversion::Classic : RdpConversion::Balle2020).epsilon_tolerance(in.number());
      switch (g_call[1] = in.byte() % 4) {
        case 0: subsampled_gaussian_rdp(q, sigma, steps, o.orders()); break;
        case 1: dp_sgd_epsilon(sigma, q, steps, delta, o); break;
        case 2: dp_sgd_noise_multiplier(in.number(), q, steps, delta, o); break;
        default: {
          torch::Tensor w = in.tensor();
          if (w.is_floating_point()) w.requires_grad_();
          const torch::Tensor x = in.tensor();
          DPSGD dp({"w"}, {w}, [] {}, DPSGDOptions(sigma, in.number(), q, in.count()));
          dp.sample_batch();
          torch::AutoGradMode grad(true);
          dp.step(linear_losses(x, w));
          dp.spent(delta);
        }
      }
      break;
    }
    case 11: {  // privacy metrics, per-example gradients, clipping, attention inversion
      using namespace lmlab::privacy;
      const auto a = in.tensor(), b = in.tensor();
      switch (g_call[1] = in.byte() % 8) {
        case 0: image_mse(a, b), psnr(a, b, in.number()); break;
        case 1: ssim(a, b, SsimOptions().window(in.count()).sigma(in.number()).k1(in.number()).k2(in.number())
                               .data_range(in.number())); break;
        case 2: label_accuracy(a, b), token_accuracy(a, b); break;
        case 3: rouge_n(a, b, in.count()), mean_rouge_f1(a, b, in.count()); break;
        case 4: {
          torch::Tensor p = a.is_floating_point() ? a.detach().requires_grad_() : a;
          torch::AutoGradMode grad(true);
          const PerExampleGrads g = per_example_gradients({"p"}, {p}, linear_losses(b, p));
          clipped_sum(g.grads, per_example_norms(g), in.number());
          break;
        }
        case 5: attention_map(a, b); break;
        case 6: inversion_loss(a, b, in.tensor(), in.number()), inversion_gradient(a, b, in.tensor(), in.number()); break;
        default: {
          const auto o = InversionOptions().solver(in.flag() ? InversionSolver::GaussNewton : InversionSolver::GradientDescent)
                             .lambda(in.number()).max_iterations(in.small()).tolerance(in.number());
          const auto x0 = in.tensor();
          const InversionResult r = invert_attention(a, b, x0, o);
          fit_w_isometry(x0, r.x, a);
        }
      }
      break;
    }
    case 12: {  // copyright_protected_loss, CopyrightSoftmaxRegression, its solvers, the data, substrings
      using namespace lmlab::copyright;
      switch (g_call[1] = in.byte() % 4) {
        case 0: {
          const auto logits = in.tensor(), targets = in.tensor(), mask = in.tensor();
          protected_loss(logits, targets, mask, ProtectedLossOptions().gamma(in.number()).ce_floor(in.number()));
          break;
        }
        case 1: {
          const auto a = in.tensor(), b = in.tensor(), c = in.tensor();
          const SoftmaxRegression f({a, b, c}, SoftmaxRegressionOptions().gamma(in.number()).lambda(in.number())
                                                   .loss_floor(in.number()).fit_all(in.flag()));
          const auto x = in.tensor();
          const auto o = SolverOptions().max_iterations(in.small()).tolerance(in.number()).initial_step(in.number());
          switch (g_call[1] = in.byte() % 3) {
            case 0: f.evaluate(x, static_cast<int>(in.count())); break;
            case 1: newton_solve(f, x, o); break;
            default: gradient_descent_solve(f, x, o);
          }
          break;
        }
        case 2:
          make_softmax_data(SoftmaxDataOptions().tasks(in.count()).copyrighted(in.count()).rows(in.count())
                                .dim(in.count()).scale(in.number()).noise(in.number()), in.byte());
          break;
        default: {
          const size_t n = in.byte() % 16;
          std::string a, b;
          for (size_t i = 0; i < n; ++i) a += static_cast<char>(in.byte() % 4), b += static_cast<char>(in.byte() % 4);
          longest_common_substring(a, b);
        }
      }
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
  for (char op = 0; op < 13; ++op) {
    const bool attention = op <= 2 || op == 8 || op == 9;
    const std::string args = attention ? bhtd + bhtd + bhtd + bhtd + bhtd : tensor_2x3 + tensor_2x3 + tensor_2x3;
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
    lmlab::fuzz::property_broken("a raw LibTorch error escaped from call " + std::to_string(g_call[0]) + "." +
                                 std::to_string(g_call[1]) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    lmlab::fuzz::property_broken("a non-lmlab exception escaped from call " + std::to_string(g_call[0]) + "." +
                                 std::to_string(g_call[1]) + ": " + e.what());
  }
  return 0;
}
