// The `lmlab._lmlab` extension: lmlab's C++ library for PyTorch users. Tensors cross the boundary
// without copies (the module shares the LibTorch of Debian's python3-torch). Errors map to Python
// exceptions: lmlab::UsageError -> ValueError, lmlab::DataError -> OSError, others -> RuntimeError.
#include <torch/python.h>

#include <string>
#include <vector>

#include "lmlab/ntk_attention/lora.h"
#include "lmlab/ntk_attention/ntk_attention.h"
#include "lmlab/ntk_attention/prefix_attention.h"
#include "lmlab/sparse_attention/mass_sparsity.h"
#include "lmlab/sparse_attention/sparse_attention.h"
#include "lmlab/streaming_attention/streaming_attention.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/data/text_batcher.h"
#include "lmlab/data/tokenizer.h"
#include "lmlab/kernels/dispatch.h"
#include "lmlab/models/flash_attention.h"
#include "lmlab/onebit/packed_linear.h"

#include "argument_checks.h"
#include "bindings.h"

using lmlab_python::NoGil;
using namespace lmlab_python;
namespace py = pybind11;

namespace {

void bind_onebit(py::module_& m) {
  using namespace lmlab::onebit;
  m.def(
      "onebit_quantize_weight",
      [](const torch::Tensor& w, const std::string& quant, bool centered, bool scaled) {
        return quantize_weight(w, WeightQuantOptions().quant(weight_quant_from_name(quant)).centered(centered).scaled(scaled));
      },
      py::arg("weight"), py::arg("quant"), py::arg("centered"), py::arg("scaled"));
  m.def("onebit_quantize_activations_int8", &quantize_activations_int8, py::arg("x"));
  m.def(
      "onebit_bit_linear",
      [](const torch::Tensor& x, const torch::Tensor& w, const c10::optional<torch::Tensor>& b, const std::string& quant,
         bool centered, bool scaled, int act_bits, bool input_norm) {
        return bit_linear(x, w, b.value_or(torch::Tensor()),
                          bit_linear_options(w, b.has_value(), quant, centered, scaled, act_bits, input_norm));
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("quant"), py::arg("centered"), py::arg("scaled"),
      py::arg("act_bits"), py::arg("input_norm"));

  py::class_<PackedLinearImpl, std::shared_ptr<PackedLinearImpl>>(m, "OneBitPackedLinear")
      .def("forward", &PackedLinearImpl::forward, NoGil(), py::arg("x"))
      .def("pattern", &PackedLinearImpl::pattern)
      .def_property_readonly("weight_scale", &PackedLinearImpl::weight_scale)
      .def_property_readonly("packed_weight_bytes", &PackedLinearImpl::packed_weight_bytes);
  m.def(
      "onebit_pack",
      [](const torch::Tensor& w, const c10::optional<torch::Tensor>& b, const std::string& quant, bool centered,
         bool scaled, int act_bits, bool input_norm) {
        return pack_weights(w, b.value_or(torch::Tensor()),
                            bit_linear_options(w, b.has_value(), quant, centered, scaled, act_bits, input_norm));
      },
      py::arg("weight"), py::arg("bias"), py::arg("quant"), py::arg("centered"), py::arg("scaled"),
      py::arg("act_bits"), py::arg("input_norm"));
}

void bind_attention(py::module_& m) {
  m.def("attention_flash", &lmlab::flash_attention, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"));
  m.def("attention_composed", &lmlab::composed_attention, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("causal"));
  m.def("attention_exact", &lmlab::exact_attention, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"));
}

// ---- sparse attention and k_eps (P3, lmlab/sparse_attention/sparse_attention.h) ----------------------------------

void bind_sparse(py::module_& m) {
  using namespace lmlab::sparse_attention;
  m.def(
      "attention_sparse",
      [](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const std::string& selection,
         int64_t top_k, double eps, bool causal, double scale, bool tail_mass, int64_t block_rows) {
        const auto options = sparse_attention_options(selection, top_k, eps, causal, scale, tail_mass, block_rows);
        SparseAttentionResult r;
        {
          py::gil_scoped_release nogil;
          r = sparse_attention(q, k, v, options);
        }
        return py::make_tuple(r.out, r.indices, r.kept, r.tail_mass.defined() ? py::cast(r.tail_mass) : py::none());
      },
      py::arg("q"), py::arg("k"), py::arg("v"), py::arg("selection"), py::arg("top_k"), py::arg("eps"),
      py::arg("causal"), py::arg("scale"), py::arg("tail_mass"), py::arg("block_rows"));
  m.def("attention_gathered", &gathered_attention, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("indices"),
        py::arg("scale"));
  m.def("attention_k_eps_from_scores", &k_eps_from_scores, py::arg("scores"), py::arg("eps"));
  m.def("attention_k_eps_from_probabilities", &k_eps_from_probabilities, py::arg("probabilities"), py::arg("eps"));
  m.def("attention_k_eps_gaussian_law", &k_eps_gaussian_law, py::arg("n"), py::arg("tau"), py::arg("eps"));
  m.def("attention_normal_quantile", &normal_quantile, py::arg("p"));
  m.def("attention_normal_tail", &normal_tail, py::arg("x"));
}

// ---- streaming attention, its polynomial and output sketch (P5) ---------------------------------

void bind_streaming(py::module_& m) {
  using namespace lmlab::streaming_attention;
  m.def("attention_exp_interpolation_error_bound", &exp_interpolation_error_bound, py::arg("degree"),
        py::arg("radius"));
  m.def("attention_polynomial_feature_dim", &polynomial_feature_dim, py::arg("dim"), py::arg("degree"));
  py::class_<ExpPolynomial>(m, "AttentionExpPolynomial")
      .def(py::init([](double radius, int64_t degree, double max_rel_error, int64_t max_degree) {
             return ExpPolynomial(
                 radius, ExpPolynomialOptions().degree(degree).max_rel_error(max_rel_error).max_degree(max_degree));
           }),
           py::arg("radius"), py::arg("degree"), py::arg("max_rel_error"), py::arg("max_degree"))
      .def_property_readonly("degree", &ExpPolynomial::degree)
      .def_property_readonly("radius", &ExpPolynomial::radius)
      .def_property_readonly("rel_error_bound", &ExpPolynomial::rel_error_bound)
      .def_property_readonly("coefficients", &ExpPolynomial::coefficients)
      .def("__call__", &ExpPolynomial::operator(), py::arg("x"));
  py::class_<PolynomialFeatures>(m, "AttentionPolynomialFeatures")
      .def(py::init<int64_t, double, ExpPolynomial>(), py::arg("dim"), py::arg("scale"), py::arg("polynomial"))
      .def_property_readonly("dim", &PolynomialFeatures::dim)
      .def_property_readonly("feature_dim", &PolynomialFeatures::feature_dim)
      .def_property_readonly("scale", &PolynomialFeatures::scale)
      .def_property_readonly("polynomial", &PolynomialFeatures::polynomial)
      .def_property_readonly("weights", [](const PolynomialFeatures& f) { return f.weights().clone(); })
      .def("phi1", [](const PolynomialFeatures& f, const torch::Tensor& q) { return checked_features(f, q, true); },
           py::arg("q"))
      .def("phi2", [](const PolynomialFeatures& f, const torch::Tensor& k) { return checked_features(f, k, false); },
           py::arg("k"));

  py::class_<CountSketchOptions>(m, "AttentionCountSketchOptions")
      .def(py::init([](int64_t rows, int64_t buckets, int64_t columns, uint64_t seed) {
             return CountSketchOptions(rows, buckets, columns).seed(seed);
           }),
           py::arg("rows"), py::arg("buckets"), py::arg("columns"), py::arg("seed"))
      .def_static("for_guarantee", &CountSketchOptions::for_guarantee, py::arg("k"), py::arg("eps"),
                  py::arg("failure"), py::arg("universe"), py::arg("columns"))
      .def_property_readonly("rows", [](const CountSketchOptions& o) { return o.rows(); })
      .def_property_readonly("buckets", [](const CountSketchOptions& o) { return o.buckets(); })
      .def_property_readonly("columns", [](const CountSketchOptions& o) { return o.columns(); })
      .def_property_readonly("seed", [](const CountSketchOptions& o) { return o.seed(); });
  py::class_<SparseColumns>(m, "AttentionSparseColumns")
      .def_readonly("indices", &SparseColumns::indices)
      .def_readonly("values", &SparseColumns::values)
      .def("dense", &SparseColumns::dense, py::arg("n"));
  py::class_<CountSketch>(m, "AttentionCountSketch")
      .def(py::init<const CountSketchOptions&>(), py::arg("options"))
      .def("add", &CountSketch::add, py::arg("rows"), py::arg("first_index"))
      .def("decode", &CountSketch::decode, py::arg("k"), py::arg("universe"))
      .def("estimate", &CountSketch::estimate, py::arg("first_index"), py::arg("m"))
      .def_property_readonly("options", &CountSketch::options)
      .def_property_readonly("table", [](const CountSketch& s) { return s.table().clone(); })
      .def_property_readonly("bytes", &CountSketch::bytes);

  py::class_<StreamingAttention>(m, "AttentionStreaming")
      .def(py::init([](int64_t dim, double entry_bound, double scale, int64_t degree, double max_rel_error,
                       int64_t max_degree, int64_t max_state_bytes, int64_t chunk,
                       const c10::optional<CountSketchOptions>& sketch) {
             auto o = StreamingAttentionOptions(dim)
                          .entry_bound(entry_bound)
                          .scale(scale)
                          .polynomial(ExpPolynomialOptions().degree(degree).max_rel_error(max_rel_error).max_degree(
                              max_degree))
                          .max_state_bytes(max_state_bytes)
                          .chunk(chunk);
             if (sketch) o.output_sketch(*sketch);
             return std::make_unique<StreamingAttention>(o);
           }),
           py::arg("dim"), py::arg("entry_bound"), py::arg("scale"), py::arg("degree"), py::arg("max_rel_error"),
           py::arg("max_degree"), py::arg("max_state_bytes"), py::arg("chunk"), py::arg("output_sketch"))
      .def("push", &StreamingAttention::push, NoGil(), py::arg("k"), py::arg("v"))
      .def("query", &StreamingAttention::query, NoGil(), py::arg("q"))
      .def("causal", &StreamingAttention::causal, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"))
      .def("decode", &StreamingAttention::decode, py::arg("k"))
      .def_property_readonly("tokens", &StreamingAttention::tokens)
      .def_property_readonly("queries", &StreamingAttention::queries)
      .def_property_readonly("features", &StreamingAttention::features, py::return_value_policy::reference_internal)
      .def_property_readonly("score_radius", &StreamingAttention::score_radius)
      .def_property_readonly("output_error_bound", &StreamingAttention::output_error_bound)
      .def_property_readonly("max_abs_value", &StreamingAttention::max_abs_value)
      .def_property_readonly("state", [](const StreamingAttention& s) { return s.state().clone(); })
      .def_property_readonly("output_sketch", &StreamingAttention::output_sketch,
                             py::return_value_policy::reference_internal)
      .def_property_readonly("state_bytes", &StreamingAttention::state_bytes);
}

// ---- NTK-Attention (P2) and the layers that own parameters --------------------------------------

void bind_ntk(py::module_& m) {
  using namespace lmlab::ntk_attention;
  using Op = torch::Tensor (*)(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                const torch::Tensor&, const torch::Tensor&, bool, const torch::Tensor&);
  // The dispatching and the composed op take an optional mask (None from Python).
  for (const auto& [name, op] : {std::pair<const char*, Op>{"attention_ntk", &ntk_attention},
                                 std::pair<const char*, Op>{"attention_ntk_composed", &composed_ntk_attention}})
    m.def(
        name,
        [op = op](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& z,
                  const torch::Tensor& kappa, bool causal, const c10::optional<torch::Tensor>& mask) {
          return op(q, k, v, z, kappa, causal, mask.value_or(torch::Tensor()));
        },
        NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("z"), py::arg("kappa"), py::arg("causal"),
        py::arg("mask"));
  m.def("attention_ntk_fused", &fused_ntk_attention, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("z"),
        py::arg("kappa"), py::arg("causal"));
  m.def("attention_ntk_feature_map", &ntk_feature_map, py::arg("x"));
  m.def("attention_ntk_prefix_state", &ntk_prefix_state, py::arg("prefix_keys"), py::arg("prefix_values"));
}

// C++ modules for lmlab/_modules.py, which registers their own parameter tensors as the
// torch.nn.Parameters of a Python module (same tensors: gradients and optimizer steps reach C++).
void bind_modules(py::module_& m) {
  using namespace lmlab::ntk_attention;
  using torch::nn::Module;
  py::class_<Module, std::shared_ptr<Module>>(m, "CppModule", py::module_local())
      .def("named_parameters", [](const Module& self) {
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (const auto& p : self.named_parameters()) out.emplace_back(p.key(), p.value());
        return out;
      });
  py::class_<NtkAttention, Module, std::shared_ptr<NtkAttention>>(m, "AttentionNtkModule")
      .def(py::init([](int64_t heads, int64_t head_dim, double kappa_init, double z_init_std) {
             return std::make_shared<NtkAttention>(
                 heads, head_dim, NtkAttentionOptions().kappa_init(kappa_init).z_init_std(z_init_std));
           }),
           py::arg("heads"), py::arg("head_dim"), py::arg("kappa_init"), py::arg("z_init_std"))
      .def("forward", &NtkAttention::forward, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"))
      .def("kappa", &NtkAttention::kappa);
  py::class_<PrefixAttention, Module, std::shared_ptr<PrefixAttention>>(m, "AttentionPrefixModule")
      .def(py::init([](int64_t heads, int64_t head_dim, int64_t length, bool reparameterize, int64_t hidden,
                       double init_std) {
             return std::make_shared<PrefixAttention>(
                 heads, head_dim,
                 PrefixAttentionOptions(length).reparameterize(reparameterize).hidden(hidden).init_std(init_std));
           }),
           py::arg("heads"), py::arg("head_dim"), py::arg("length"), py::arg("reparameterize"), py::arg("hidden"),
           py::arg("init_std"))
      .def("forward", &PrefixAttention::forward, NoGil(), py::arg("q"), py::arg("k"), py::arg("v"), py::arg("causal"))
      .def("prefix", &PrefixAttention::prefix);
  py::class_<LoraLinearImpl, Module, std::shared_ptr<LoraLinearImpl>>(m, "AttentionLoraModule")
      .def(py::init([](int64_t in, int64_t out, bool bias, int64_t rank, double alpha) {
             return std::make_shared<LoraLinearImpl>(in, out, bias, LoraOptions(rank).alpha(alpha));
           }),
           py::arg("in_features"), py::arg("out_features"), py::arg("bias"), py::arg("rank"), py::arg("alpha"))
      .def("forward", &LoraLinearImpl::forward, NoGil(), py::arg("x"))
      .def_property_readonly("scaling", &LoraLinearImpl::scaling);
}

}  // namespace

PYBIND11_MODULE(_lmlab, m) {
  m.doc() = "lmlab: the papers' algorithms in C++ over LibTorch";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lmlab::UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const lmlab::DataError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  m.def(
      "info",
      [] {
        py::dict d;
        for (const auto& [name, value] : lmlab::environment_info()) d[py::str(name)] = value;
        return d;
      },
      "Versions, BLAS, threads, SIMD level detected and in use, CPU: what `lmlab info` prints.");
  m.def(
      "simd_level", [] { return lmlab::simd_level_name(lmlab::active_simd_level()); },
      "The SIMD level lmlab's kernels use: 'scalar', 'avx2' or 'avx512' (env LMLAB_SIMD overrides).");
  m.def(
      "encode", [](const std::string& text) { return lmlab::ByteTokenizer().encode(text); },
      py::arg("text"), "Byte tokens of `text` (UTF-8 bytes): int64 tensor [N], vocabulary 256.");
  m.def(
      "decode", [](const torch::Tensor& tokens) { return py::bytes(lmlab::ByteTokenizer().decode(tokens)); },
      py::arg("tokens"), "The bytes of an integer tensor of byte tokens 0..255.");
  bind_onebit(m);
  bind_attention(m);
  bind_sparse(m);
  bind_streaming(m);
  bind_ntk(m);
  bind_modules(m);
#define LMLAB_BINDING(area) lmlab_python::bind_##area(m);
#include "bindings.def"
#undef LMLAB_BINDING
  m.def("unigram_bits_per_byte", &lmlab::unigram_bits_per_byte, py::arg("train"), py::arg("eval"),
        "Bits per byte on `eval` of an add-one-smoothed byte unigram fitted on `train`.");
}
