// Fine-tuning bookkeeping (include/lmlab/ntk_attention/adapters.h).
#include "lmlab/ntk_attention/adapters.h"

#include "lmlab/core/error.h"
#include "lmlab/models/parameters.h"

namespace lmlab::ntk_attention {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool starts_with_any(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

bool is_adapter_parameter(const std::string& name) {
  if (ends_with(name, "lora_A") || ends_with(name, "lora_B")) return true;
  const size_t core = name.rfind("core.");
  if (core == std::string::npos || (core > 0 && name[core - 1] != '.')) return false;
  const std::string own = name.substr(core + 5);
  return own == "Z" || own == "k" || own == "prefix_keys" || own == "prefix_values" ||
         own == "embedding" || own.rfind("mlp.", 0) == 0;
}

int64_t train_adapters_only(torch::nn::Module& module, const std::vector<std::string>& also) {
  const int64_t n = set_trainable(module, [&](const std::string& name) {
    return is_adapter_parameter(name) || starts_with_any(name, also);
  });
  LMLAB_CHECK(n > 0, UsageError, "train_adapters_only: the model has no adapter parameters (LoRA, prefix or "
              "NTK-Attention cores) and nothing matched the extra names; build it with an adapter factory");
  return n;
}

int64_t copy_matching_parameters(const torch::nn::Module& from, torch::nn::Module& to,
                                 const std::vector<std::string>& skip) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters();
  for (const auto& b : from.named_buffers()) source.insert(b.key(), b.value());
  int64_t copied = 0;
  auto copy = [&](const std::string& name, torch::Tensor& dst) {
    const torch::Tensor* src = source.find(name);
    if (!src || starts_with_any(name, skip)) return;
    LMLAB_CHECK(src->sizes() == dst.sizes(), DataError, "copy_matching_parameters: '", name, "' is ",
                src->sizes(), " in the source and ", dst.sizes(), " in the target; the backbones differ");
    dst.copy_(*src);
    ++copied;
  };
  for (auto& p : to.named_parameters()) copy(p.key(), p.value());
  for (auto& b : to.named_buffers()) copy(b.key(), b.value());
  return copied;
}

}  // namespace lmlab::ntk_attention
