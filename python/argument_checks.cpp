// The bindings' argument checks (python/argument_checks.h).
#include "argument_checks.h"

#include "lmlab/core/error.h"

namespace lmlab_python {

lmlab::onebit::BitLinearOptions bit_linear_options(const torch::Tensor& weight, bool bias, const std::string& quant,
                                                   bool centered, bool scaled, int act_bits, bool input_norm) {
  LMLAB_CHECK(weight.dim() == 2, lmlab::UsageError, "a BitLinear weight is 2-D [out, in], got ", weight.sizes());
  return lmlab::onebit::BitLinearOptions(weight.size(1), weight.size(0))
      .bias(bias)
      .act_bits(act_bits)
      .input_norm(input_norm)
      .weights(lmlab::onebit::WeightQuantOptions()
                   .quant(lmlab::onebit::weight_quant_from_name(quant))
                   .centered(centered)
                   .scaled(scaled));
}

std::shared_ptr<lmlab::onebit::PackedLinearImpl> pack_weights(const torch::Tensor& w, const torch::Tensor& b,
                                                              const lmlab::onebit::BitLinearOptions& options) {
  lmlab::onebit::BitLinear layer(options);
  torch::NoGradGuard no_grad;
  layer->weight.copy_(w);
  if (b.defined()) {
    LMLAB_CHECK(b.dim() == 1 && b.size(0) == w.size(0), lmlab::UsageError, "the bias must be [", w.size(0), "], got ",
                b.sizes());
    layer->bias.copy_(b);
  }
  return lmlab::onebit::pack(*layer).ptr();
}

lmlab::sparse_attention::SparseAttentionOptions sparse_attention_options(const std::string& selection, int64_t top_k,
                                                                         double eps, bool causal, double scale,
                                                                         bool tail_mass, int64_t block_rows) {
  using lmlab::sparse_attention::Selection;
  LMLAB_CHECK(selection == "top_k" || selection == "mass", lmlab::UsageError,
              "sparse attention selection must be \"top_k\" or \"mass\", got \"", selection, "\"");
  return lmlab::sparse_attention::SparseAttentionOptions()
      .selection(selection == "top_k" ? Selection::TopK : Selection::Mass)
      .k(top_k)
      .eps(eps)
      .causal(causal)
      .scale(scale)
      .tail_mass(tail_mass)
      .block_rows(block_rows);
}

torch::Tensor checked_features(const lmlab::streaming_attention::PolynomialFeatures& f, const torch::Tensor& x,
                               bool phi1) {
  LMLAB_CHECK(x.dim() == 2 && x.size(1) == f.dim() && x.is_floating_point() && x.device().is_cpu(),
              lmlab::UsageError, "polynomial features in d = ", f.dim(), " variables need floating-point CPU rows [n, ",
              f.dim(), "]; got ", x.sizes(), " ", x.dtype());
  return phi1 ? f.phi1(x) : f.phi2(x);
}

}  // namespace lmlab_python
