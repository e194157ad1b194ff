// Every experiment names its paper so that summary.json and the report can title it.
#include <gtest/gtest.h>

#include "lmlab/core/error.h"
#include "papers.h"
#include "registry.h"

using namespace lmlab;

TEST(Papers, EveryExperimentWithAnArxivIdHasItsPapersTitle) {
  for (const ExperimentDef& def : all_experiments()) {
    const bool has_arxiv = def.paper.find("arXiv ") != std::string::npos;
    EXPECT_EQ(def.paper_title.empty(), !has_arxiv) << def.name << ": " << def.paper;
  }
  EXPECT_EQ(paper_title("P8 RDBD (arXiv 2310.11291)"), "RDBD: Regrettable Delta-Bar-Delta learning-rate schedule");
  EXPECT_EQ(paper_title("foundation (no paper)"), "");
  EXPECT_THROW(paper_title("P11 (arXiv 9999.00000)"), InternalError);
}
