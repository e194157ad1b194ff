// The ten papers (experiments/papers.h); titles as papers/ABSTRACTS.md heads them.
#include "papers.h"

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

struct Paper {
  const char* arxiv;
  const char* title;
};

constexpr Paper kPapers[] = {
    {"2411.01663", "1-bit neural networks: scaling theory"},
    {"2406.14036", "Infinite-long prefix / NTK-Attention"},
    {"2404.02690", "Sparsity of attention with Gaussian inputs"},
    {"2402.01515", "Unified framework for first-order methods: Reject / Random Vector Accelerating"},
    {"2311.14652", "One-pass streaming attention in sublinear space"},
    {"2311.13624", "Gradient leakage (DLG) attack and noise defense in transformers"},
    {"2310.12462", "Recovering inputs from attention weights and outputs"},
    {"2310.11291", "RDBD: Regrettable Delta-Bar-Delta learning-rate schedule"},
    {"2310.03331", "RICL / LARICL: reweighted in-context learning"},
    {"2308.12247", "Copyright-protected softmax regression"},
};

}  // namespace

std::string paper_title(const std::string& paper_label) {
  if (paper_label.find("arXiv ") == std::string::npos) return "";
  for (const Paper& p : kPapers)
    if (paper_label.find(std::string("arXiv ") + p.arxiv) != std::string::npos) return p.title;
  throw InternalError("paper label '" + paper_label + "' names an arXiv id missing from experiments/papers.cpp");
}

}  // namespace lmlab
