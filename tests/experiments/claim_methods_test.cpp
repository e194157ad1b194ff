// check_claim_methods (experiments/ntk_attention/finetune_methods.h): the fine-tuning experiments refuse,
// before any training, a method list their claims cannot be computed from.
#include <gtest/gtest.h>

#include "ntk_attention/finetune_methods.h"
#include "support/usage_error.h"

namespace lmlab {
namespace {

using ntk_attention::AdaptMethod;
using ntk_attention::parse_adapt_method;

std::vector<AdaptMethod> parse(const std::vector<std::string>& names) {
  std::vector<AdaptMethod> methods;
  for (const auto& n : names) methods.push_back(parse_adapt_method(n));
  return methods;
}

TEST(ClaimMethods, NeedNtkAndALoraOrPrefixBaseline) {
  using test_support::usage_error;
  for (const auto& names : std::vector<std::vector<std::string>>{{"ntk"}, {"ntk", "full", "head"}, {"lora:4", "prefix:10"}}) {
    const std::string message = usage_error([&] { check_claim_methods(parse(names)); });
    EXPECT_NE(message.find("keep \"ntk\" and at least one lora:R or prefix:M"), std::string::npos) << message;
  }
  EXPECT_NO_THROW(check_claim_methods(parse({"ntk", "lora:8"})));
  EXPECT_NO_THROW(check_claim_methods(parse({"full", "prefix:10", "ntk"})));
}

}  // namespace
}  // namespace lmlab
