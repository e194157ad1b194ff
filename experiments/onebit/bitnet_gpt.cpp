// The 1-bit experiments' GPTs (experiments/onebit/bitnet_gpt.h).
#include "onebit/bitnet_gpt.h"

#include "common/lm_config.h"
#include "lmlab/onebit/bit_linear.h"

namespace lmlab {

GPTOptions bitnet_gpt_options(const Config& cfg, const std::string& precision, int64_t width) {
  using namespace onebit;
  GPTOptions options = gpt_options(cfg).width(width);
  if (precision == "fp") return options;
  const bool binary = weight_quant_from_name(precision) == WeightQuant::Binary;
  const int act_bits = static_cast<int>(cfg.get_int("act_bits"));
  return options.linear(bit_linear_factory(BitLinearOptions(1, 1)
                                               .weights(WeightQuantOptions()
                                                            .quant(binary ? WeightQuant::Binary : WeightQuant::Ternary)
                                                            .centered(binary))
                                               .act_bits(act_bits)
                                               .input_norm(true)));
}

}  // namespace lmlab
