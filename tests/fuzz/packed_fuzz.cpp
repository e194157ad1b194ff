// The input as a packed 1-bit or ternary layer file (onebit::load_packed, through load_weights):
// a foreign, truncated or corrupt file, a description the file cannot back, or words the kernels
// cannot use is an lmlab::Error, never a crash, a raw LibTorch error or a huge allocation. A layer
// that loads computes a forward of the right shape, holds only -1, 0, +1 weights, and saves and
// loads again to the same words, scale and bias.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_files.h"
#include "fuzz_target.h"
#include "lmlab/core/error.h"
#include "lmlab/onebit/packed_linear.h"

// Binary and ternary layers, with and without bias, one with a row of more than 64 weights.
LMLAB_FUZZ_SEEDS(packed) {
  using namespace lmlab::onebit;
  torch::manual_seed(0);
  const std::string path = lmlab::fuzz::scratch_path("packed_seed");
  std::vector<std::string> seeds;
  for (const auto& options : {BitLinearOptions(3, 2), BitLinearOptions(70, 2).bias(false).act_bits(8),
                              BitLinearOptions(5, 3).weights(WeightQuantOptions().quant(WeightQuant::Ternary)),
                              BitLinearOptions(65, 1).input_norm(true).weights(WeightQuantOptions().quant(WeightQuant::Ternary))}) {
    save_packed(*pack(*BitLinear(options)), path);
    std::ifstream in(path, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::filesystem::remove(path);
  return seeds;
}

LMLAB_FUZZ_TARGET(packed) {
  static const std::string path = lmlab::fuzz::scratch_path("packed");
  lmlab::fuzz::write_input(path, data, size);
  lmlab::fuzz::check_round_trip([&] {
    lmlab::onebit::PackedLinear layer = nullptr;
    try {
      layer = lmlab::onebit::load_packed(path);
    } catch (const lmlab::Error&) {
      return;
    }
    const int64_t in = layer->options().in(), out = layer->options().out();
    if (in * out > (1 << 16)) return;  // a large layer that loads: its words are in the file, enough
    torch::NoGradGuard no_grad;
    if (layer->forward(torch::linspace(-2, 2, 3 * in).reshape({3, in})).sizes() != torch::IntArrayRef({3, out}))
      lmlab::fuzz::property_broken("a loaded layer's output has the wrong shape");
    const torch::Tensor t = layer->pattern();
    if (!(t.abs() <= 1).all().item<bool>() || !(t == t.round()).all().item<bool>())
      lmlab::fuzz::property_broken("a loaded layer holds weights other than -1, 0, +1");
    lmlab::onebit::save_packed(*layer, path);
    const auto again = lmlab::onebit::load_packed(path);
    const auto a = layer->named_buffers(), b = again->named_buffers();
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].value().equal(b[i].value())) lmlab::fuzz::property_broken("a loaded layer saved again changed " + a[i].key());
  });
  std::filesystem::remove(path);
  return 0;
}
