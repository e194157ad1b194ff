// Packed 1-bit and ternary inference (P1, lmlab/onebit/packed_linear.h) against fp32 LibTorch and
// LibTorch's int8 path, per layer and end to end.
//
// Layer y = x W^T + b, W [N x K], x [B x K], for N x K in {1024^2, 2048^2, 4096^2, 8192^2} and the
// LLM MLP shapes 11008 x 4096 and 4096 x 11008, B in {1, 8}:
//   fp32_linear    torch::nn::functional::linear (what nn::Linear runs; addmm on OpenBLAS)
//   fp32_mv        torch::addmv, B = 1 only (OpenBLAS sgemv; faster than linear at B = 1)
//   int8_qnnpack, int8_onednn   LibTorch's dynamic-quantized linear (quantized::linear_dynamic,
//                  int8 weights, activations quantized per call), engine QNNPACK or oneDNN
//   binary_f32, binary_i8, ternary_f32, ternary_i8   onebit::PackedLinear (1 or 2 bits/weight;
//                  fp32 or int8 per-token activations), the whole layer: quantization, kernel,
//                  scales, bias, threading
// int8_kernel: the int8 kernels alone on one thread, N = K in {2048, 4096}, B in {1, 8}: the
//   multiply-add kernels of lmlab/kernels/onebit.h (mad) against the lookup-table kernels of
//   lmlab/kernels/onebit_lut.h (lut, its tables built in every call), binary and ternary.
// memory_read: torch::sum over 1 GiB of floats, the machine's read bandwidth (the roofline a GEMV
// cannot beat: it reads every weight once).
// gpt_forward: a BitNet-style GPT (width 1024, 4 layers, 16 heads, int8 activations, ternary or
// binary weights) packed with pack_model, against its full-precision twin (the same GPT with
// nn::Linear layers); next-token logits for a context of 1 token (the GEMV regime of decoding) and
// 64 tokens (prefill).
//
// Counters: items_per_second = calls/s, bytes_per_second = weight bytes read per second (N K 4,
// N K, N ceil(K/64) 8 or twice that), torch_threads; gpt_forward also tokens_per_second.
// Before timing, main() checks every path against its reference (see check_all). Each case runs
// at least 0.25 s per repetition (a fixed MinTime, whatever --benchmark_min_time says: there are
// about 100 cases per thread count). bench/peers/onebit_peer.py times the fp32 and int8 paths in
// Python PyTorch; bench/onebit_report.py turns both into the ratio table of docs/onebit.md.
#include <benchmark/benchmark.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "bench_main.h"
#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/kernels/onebit.h"
#include "lmlab/kernels/onebit_lut.h"
#include "lmlab/kernels/packed.h"
#include "lmlab/models/gpt.h"
#include "lmlab/onebit/packed_linear.h"

namespace lmlab {
namespace {

constexpr double kMinTime = 0.25;
const std::vector<std::pair<int64_t, int64_t>> kShapes = {{1024, 1024}, {2048, 2048}, {4096, 4096},
                                                          {8192, 8192}, {11008, 4096}, {4096, 11008}};

// ---- LibTorch's dynamic-quantized int8 linear, called through the dispatcher ----------------------

c10::IValue call_op(const char* name, torch::jit::Stack stack) {
  const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
  op.callBoxed(&stack);
  return stack.at(0);
}

// Prepacked int8 weights (per-tensor absmax scale) for `engine`.
c10::IValue int8_prepack(const torch::Tensor& w, const torch::Tensor& b, at::QEngine engine) {
  at::globalContext().setQEngine(engine);
  const double scale = w.abs().max().item<double>() / 127.0;
  return call_op("quantized::linear_prepack", {at::quantize_per_tensor(w, scale, 0, at::kQInt8), b});
}

// reduce_range (7-bit activations) on CPUs without VNNI, as PyTorch's x86 default: their u8 x s8
// products go through vpmaddubsw, whose int16 pair sums saturate on full-range codes (oneDNN's
// results were off by 30% on an AVX2-only EPYC).
torch::Tensor int8_linear(const torch::Tensor& x, const c10::IValue& packed) {
  static const bool reduce_range = !cpu_has_avx512_vnni();
  return call_op("quantized::linear_dynamic", {x, packed, reduce_range}).toTensor();
}

// ---- one layer shape, built once and shared by the cases that use it -----------------------------

enum Path { Fp32Linear, Fp32Mv, Int8Qnnpack, Int8Onednn, BinaryF32, BinaryI8, TernaryF32, TernaryI8 };
const char* const kPathNames[] = {"fp32_linear", "fp32_mv", "int8_qnnpack", "int8_onednn",
                                  "binary_f32", "binary_i8", "ternary_f32", "ternary_i8"};

onebit::BitLinearOptions packed_options(Path p, int64_t n, int64_t k) {
  const auto quant = p == BinaryF32 || p == BinaryI8 ? onebit::WeightQuant::Binary : onebit::WeightQuant::Ternary;
  return onebit::BitLinearOptions(k, n).act_bits(p == BinaryI8 || p == TernaryI8 ? 8 : 0).weights(
      onebit::WeightQuantOptions().quant(quant));
}

// Weights of one shape (Kaiming-uniform, as nn::Linear) and each path's form of them.
struct Layer {
  Layer(int64_t n_, int64_t k_) : n(n_), k(k_) {
    torch::manual_seed(n * 31 + k);
    const torch::nn::Linear init(k, n);
    w = init->weight.detach();
    b = init->bias.detach();
  }
  // The path's forward on x [B, K].
  std::function<torch::Tensor(const torch::Tensor&)> forward(Path p) {
    switch (p) {
      case Fp32Linear: return [this](const torch::Tensor& x) { return torch::nn::functional::linear(x, w, b); };
      case Fp32Mv: return [this](const torch::Tensor& x) { return torch::addmv(b, w, x.view({k})).view({1, n}); };
      case Int8Qnnpack: case Int8Onednn: {
        const at::QEngine engine = p == Int8Qnnpack ? at::QEngine::QNNPACK : at::QEngine::ONEDNN;
        if (!int8.count(p)) int8[p] = int8_prepack(w, b, engine);
        return [this, p, engine](const torch::Tensor& x) {
          at::globalContext().setQEngine(engine);
          return int8_linear(x, int8[p]);
        };
      }
      default: {
        if (!packed.count(p)) {
          onebit::BitLinear layer(packed_options(p, n, k));
          torch::NoGradGuard no_grad;
          layer->weight.copy_(w);
          layer->bias.copy_(b);
          packed.emplace(p, onebit::pack(*layer));
        }
        onebit::PackedLinear layer = packed.at(p);
        return [layer](const torch::Tensor& x) mutable { return layer(x); };
      }
    }
  }
  int64_t weight_bytes(Path p) const {
    const int64_t words = kernels::packed_words_per_row(k) * 8 * n;
    if (p == Fp32Linear || p == Fp32Mv) return n * k * 4;
    if (p == Int8Qnnpack || p == Int8Onednn) return n * k;
    return p == BinaryF32 || p == BinaryI8 ? words : 2 * words;
  }
  int64_t n, k;
  torch::Tensor w, b;
  std::map<Path, c10::IValue> int8;
  std::map<Path, onebit::PackedLinear> packed;
};

// The layer of the running case; cases are registered shape by shape, so one is kept at a time.
Layer& layer_for(int64_t n, int64_t k) {
  static std::unique_ptr<Layer> cached;
  if (!cached || cached->n != n || cached->k != k) {
    cached.reset();
    cached = std::make_unique<Layer>(n, k);
  }
  return *cached;
}

void layer_case(benchmark::State& state) {
  const auto path = static_cast<Path>(state.range(0));
  const int64_t n = state.range(1), k = state.range(2), batch = state.range(3);
  const int threads = set_threads(static_cast<int>(state.range(4)));
  torch::NoGradGuard no_grad;
  Layer& layer = layer_for(n, k);
  const auto forward = layer.forward(path);
  const torch::Tensor x = torch::randn({batch, k});
  for (int i = 0; i < 2; ++i) forward(x);
  for (auto _ : state) benchmark::DoNotOptimize(forward(x).data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * layer.weight_bytes(path));
  state.counters["torch_threads"] = threads;
  state.SetLabel(kPathNames[path]);
}

// ---- the int8 kernels alone ------------------------------------------------------------------------

const char* const kKernelNames[] = {"binary_mad_i8", "binary_lut_i8", "ternary_mad_i8", "ternary_lut_i8"};

void int8_kernel(benchmark::State& state) {
  const bool lut = state.range(0) % 2, ternary = state.range(0) / 2;
  const int64_t n = state.range(1), k = n, batch = state.range(2);
  std::mt19937_64 rng(static_cast<uint64_t>(n));
  std::vector<float> w(static_cast<size_t>(n * k));
  for (float& v : w) v = ternary ? static_cast<float>(static_cast<int>(rng() % 3) - 1) : rng() % 2 ? 1.0f : -1.0f;
  std::vector<int8_t> x(static_cast<size_t>(batch * k));
  for (int8_t& v : x) v = static_cast<int8_t>(rng());
  std::vector<int32_t> y(static_cast<size_t>(batch * n));
  const kernels::PackedBinary pb = kernels::pack_binary(w.data(), ternary ? 0 : n, k);
  const kernels::PackedTernary pt = kernels::pack_ternary(w.data(), ternary ? n : 0, k);
  const kernels::LutWeights lw = ternary ? kernels::lut_layout(pt.view()) : kernels::lut_layout(pb.view());
  std::vector<int8_t> tables(static_cast<size_t>(batch * kernels::lut_pairs(k) * 64));
  std::vector<int32_t> sums(static_cast<size_t>(batch));
  const kernels::OneBitKernels& mad = kernels::onebit_kernels();
  const kernels::OneBitLutKernels& table = kernels::onebit_lut_kernels();
  const auto call = [&] {
    if (lut) {
      table.tables_i8(x.data(), batch, k, tables.data(), sums.data());
      table.gemm_i8(lw.view(), {tables.data(), sums.data(), batch}, y.data(), 0, kernels::lut_blocks(n));
    } else if (ternary) {
      mad.ternary_gemm_i8(pt.view(), x.data(), batch, y.data(), 0, n);
    } else {
      mad.binary_gemm_i8(pb.view(), x.data(), batch, y.data(), 0, n);
    }
  };
  for (auto _ : state) {
    call();
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * (ternary ? 2 : 1) * kernels::packed_words_per_row(k) * 8 * n);
  state.counters["torch_threads"] = 1;
  state.SetLabel(kKernelNames[state.range(0)]);
}

void memory_read(benchmark::State& state) {
  const int threads = set_threads(static_cast<int>(state.range(0)));
  const torch::Tensor buffer = torch::ones({int64_t{1} << 28});  // 1 GiB
  for (auto _ : state) benchmark::DoNotOptimize(buffer.sum().item<float>());
  state.SetBytesProcessed(state.iterations() * buffer.numel() * 4);
  state.counters["torch_threads"] = threads;
}

// ---- end to end ---------------------------------------------------------------------------------

enum GptModel { Fp32Twin, PackedBinary, PackedTernary };

GPT make_gpt(GptModel model) {
  torch::manual_seed(7);
  GPTOptions o = GPTOptions().vocab(256).context(128).layers(4).heads(16).width(1024);
  if (model == Fp32Twin) return GPT(o);
  const auto quant = model == PackedBinary ? onebit::WeightQuant::Binary : onebit::WeightQuant::Ternary;
  GPT gpt(o.linear(onebit::bit_linear_factory(
      onebit::BitLinearOptions(1, 1).act_bits(8).weights(onebit::WeightQuantOptions().quant(quant)))));
  onebit::pack_model(*gpt);
  return gpt;
}

void gpt_forward(benchmark::State& state) {
  const auto model = static_cast<GptModel>(state.range(0));
  const int64_t tokens = state.range(1);
  const int threads = set_threads(static_cast<int>(state.range(2)));
  torch::NoGradGuard no_grad;
  GPT gpt = make_gpt(model);
  gpt->eval();
  const torch::Tensor idx = torch::randint(256, {1, tokens});
  for (int i = 0; i < 2; ++i) gpt(idx);
  for (auto _ : state) benchmark::DoNotOptimize(gpt(idx).data_ptr());
  state.SetItemsProcessed(state.iterations());
  state.counters["tokens_per_second"] = benchmark::Counter(static_cast<double>(state.iterations() * tokens),
                                                           benchmark::Counter::kIsRate);
  state.counters["torch_threads"] = threads;
  state.counters["parameters"] = static_cast<double>(gpt->num_parameters());
  state.SetLabel(model == Fp32Twin ? "fp32_twin" : model == PackedBinary ? "packed_binary" : "packed_ternary");
}

void register_all() {
  for (int threads : {1, 2}) {
    for (const auto& [n, k] : kShapes)
      for (int p = Fp32Linear; p <= TernaryI8; ++p)
        for (int64_t batch : {1, 8}) {
          if (p == Fp32Mv && batch != 1) continue;
          benchmark::RegisterBenchmark(kPathNames[p], layer_case)
              ->Args({p, n, k, batch, threads})
              ->ArgNames({"path", "N", "K", "batch", "threads"})
              ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMicrosecond);
        }
    if (threads == 1)
      for (int kernel = 0; kernel < 4; ++kernel)
        for (int64_t n : {2048, 4096})
          for (int64_t batch : {1, 8})
            benchmark::RegisterBenchmark("int8_kernel", int8_kernel)
                ->Args({kernel, n, batch})
                ->ArgNames({"kernel", "N", "batch"})
                ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("memory_read", memory_read)
        ->Args({threads})->ArgNames({"threads"})->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
    for (int model : {Fp32Twin, PackedBinary, PackedTernary})
      for (int64_t tokens : {1, 64})
        benchmark::RegisterBenchmark("gpt_forward", gpt_forward)
            ->Args({model, tokens, threads})
            ->ArgNames({"model", "tokens", "threads"})
            ->MinTime(kMinTime)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

// ---- checks before timing -------------------------------------------------------------------------

// InternalError unless every path computes the layer: packed paths equal BitLinear's dense forward
// of the same weights to 1e-4 of the output scale (the rounding bound is tested in
// tests/onebit/packed_linear_test.cpp), int8 paths the fp32 layer to 5% (8-bit weights and
// activations), the lookup-table int8 kernels the multiply-add ones exactly, and a packed GPT its
// unpacked self (see there).
void check_all() {
  torch::NoGradGuard no_grad;
  {
    std::mt19937_64 rng(1);
    std::vector<float> w(300 * 1000);
    for (float& v : w) v = static_cast<float>(static_cast<int>(rng() % 3) - 1);
    std::vector<int8_t> x(3 * 1000);
    for (int8_t& v : x) v = static_cast<int8_t>(rng());
    const kernels::PackedTernary pt = kernels::pack_ternary(w.data(), 300, 1000);
    std::vector<int32_t> mad(3 * 300), lut(3 * 300);
    kernels::onebit_kernels().ternary_gemm_i8(pt.view(), x.data(), 3, mad.data(), 0, 300);
    std::vector<int8_t> tables(3 * kernels::lut_pairs(1000) * 64);
    std::vector<int32_t> sums(3);
    const kernels::OneBitLutKernels& t = kernels::onebit_lut_kernels();
    t.tables_i8(x.data(), 3, 1000, tables.data(), sums.data());
    t.gemm_i8(kernels::lut_layout(pt.view()).view(), {tables.data(), sums.data(), 3}, lut.data(), 0, kernels::lut_blocks(300));
    LMLAB_CHECK(mad == lut, InternalError, "the lookup-table int8 kernel differs from the multiply-add one");
  }
  Layer layer(300, 1000);
  const torch::Tensor x = torch::randn({3, 1000});
  auto rel = [](const torch::Tensor& got, const torch::Tensor& want) {
    return ((got - want).abs().max() / want.abs().max()).item<double>();
  };
  for (Path p : {Int8Qnnpack, Int8Onednn}) {
    const double e = rel(layer.forward(p)(x), layer.forward(Fp32Linear)(x));
    LMLAB_CHECK(e < 0.05, InternalError, kPathNames[p], " is off the fp32 layer by ", e);
  }
  for (Path p : {BinaryF32, BinaryI8, TernaryF32, TernaryI8}) {
    onebit::BitLinear dense(packed_options(p, 300, 1000));
    dense->weight.copy_(layer.w);
    dense->bias.copy_(layer.b);
    const double e = rel(layer.forward(p)(x), dense(x));
    LMLAB_CHECK(e < 1e-4, InternalError, kPathNames[p], " is off BitLinear's dense forward by ", e);
  }
  // int8 activations: both forwards compute the same codes up to fp32 rounding, but a code that sits
  // on a rounding boundary may round the other way, moving one activation by one step (1/127 of its
  // row's absmax); through 4 blocks such flips move the logits by a few steps, not more than 5%.
  GPT gpt = make_gpt(PackedTernary);
  const torch::Tensor idx = torch::randint(256, {1, 64});
  const torch::Tensor packed = gpt(idx);
  onebit::unpack_model(*gpt);
  const torch::Tensor dense = gpt(idx);
  const double e = rel(packed, dense);
  const double agree = (packed.argmax(-1) == dense.argmax(-1)).to(torch::kDouble).mean().item<double>();
  std::cerr << "onebit_bench: packed ternary GPT against its unpacked self: max |logit difference| / max |logit| = "
            << e << ", next-token argmax agreement " << agree << "\n";
  LMLAB_CHECK(e < 0.05 && agree >= 0.95, InternalError, "packed GPT logits are off the unpacked ones by ", e,
              " (argmax agreement ", agree, ")");
}

}  // namespace
}  // namespace lmlab

int main(int argc, char** argv) {
  return lmlab::run_benchmarks(argc, argv, "onebit_bench", lmlab::check_all, lmlab::register_all);
}
