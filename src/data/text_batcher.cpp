// Token stream, LM batches and the byte-unigram baseline (include/lmlab/data/text_batcher.h).
#include "lmlab/data/text_batcher.h"

#include "lmlab/core/error.h"
#include "lmlab/data/tokenizer.h"

namespace lmlab {
namespace {

torch::Tensor checked_bytes(const torch::Tensor& tokens, const char* name) {
  LMLAB_CHECK(!torch::isFloatingType(tokens.scalar_type()) && tokens.scalar_type() != torch::kBool,
              UsageError, "unigram_bits_per_byte: ", name, " tokens have dtype ",
              tokens.scalar_type(), ", expected integers");
  const torch::Tensor flat = tokens.reshape({-1}).to(torch::kInt64);
  LMLAB_CHECK(flat.numel() == 0 || (flat.min().item<int64_t>() >= 0 &&
                                    flat.max().item<int64_t>() < ByteTokenizer::kVocabSize),
              UsageError, "unigram_bits_per_byte: ", name, " tokens fall outside the bytes 0..255");
  return flat;
}

}  // namespace

torch::Tensor make_token_stream(const std::vector<Document>& docs) {
  std::string joined;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0) joined += kDocumentSeparator;
    joined += docs[i].text;
  }
  return ByteTokenizer().encode(joined);
}

TextBatcher::TextBatcher(torch::Tensor stream) {
  LMLAB_CHECK(stream.dim() == 1 && !torch::isFloatingType(stream.scalar_type()) &&
                  stream.scalar_type() != torch::kBool,
              UsageError, "TextBatcher: the stream must be a 1-D integer tensor, got dtype ",
              stream.scalar_type(), " and shape ", stream.sizes());
  stream_ = stream.to(torch::kInt64).contiguous();
}

void TextBatcher::check_shape(const char* caller, int64_t batch, int64_t context) const {
  LMLAB_CHECK(batch >= 1 && context >= 1, UsageError, "TextBatcher::", caller, ": batch ", batch,
              " and context ", context, " must both be at least 1");
  LMLAB_CHECK(size() >= context + 1, DataError, "TextBatcher::", caller,
              ": the token stream holds ", size(),
              " tokens, fewer than context + 1 = ", context + 1,
              "; lower the context or load more text (more topics)");
}

TokenBatch TextBatcher::sample(int64_t batch, int64_t context, torch::Generator& generator) const {
  check_shape("sample", batch, context);
  const torch::Tensor starts =
      torch::randint(0, size() - context, {batch}, generator, torch::kInt64);
  const torch::Tensor windows = stream_.unfold(0, context + 1, 1).index_select(0, starts);
  return {windows.slice(1, 0, context).contiguous(), windows.slice(1, 1).contiguous()};
}

std::vector<TokenBatch> TextBatcher::eval_batches(int64_t batch, int64_t context) const {
  check_shape("eval_batches", batch, context);
  const int64_t targets = size() - 1;
  const int64_t full = targets / context;
  const int64_t covered = full * context;
  const std::vector<torch::Tensor> xs =
      stream_.slice(0, 0, covered).view({full, context}).split(batch);
  const std::vector<torch::Tensor> ys =
      stream_.slice(0, 1, covered + 1).view({full, context}).split(batch);
  std::vector<TokenBatch> out;
  for (size_t i = 0; i < xs.size(); ++i) out.push_back({xs[i].contiguous(), ys[i].contiguous()});
  if (covered < targets) {
    out.push_back({stream_.slice(0, covered, targets).unsqueeze(0).contiguous(),
                   stream_.slice(0, covered + 1).unsqueeze(0).contiguous()});
  }
  return out;
}

double unigram_bits_per_byte(const torch::Tensor& train, const torch::Tensor& eval) {
  const torch::Tensor train_bytes = checked_bytes(train, "train");
  const torch::Tensor eval_bytes = checked_bytes(eval, "eval");
  LMLAB_CHECK(eval_bytes.numel() > 0, UsageError,
              "unigram_bits_per_byte: the eval stream is empty");
  const int64_t v = ByteTokenizer::kVocabSize;
  const torch::Tensor counts = torch::bincount(train_bytes, {}, v).to(torch::kFloat64);
  const torch::Tensor log2_p =
      torch::log2((counts + 1.0) / static_cast<double>(train_bytes.numel() + v));
  const torch::Tensor eval_counts = torch::bincount(eval_bytes, {}, v).to(torch::kFloat64);
  return -(eval_counts * log2_p).sum().item<double>() / static_cast<double>(eval_bytes.numel());
}

}  // namespace lmlab
