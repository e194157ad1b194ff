// The ten papers lmlab implements (papers/ABSTRACTS.md): their arXiv ids and titles, which
// summary.json records beside each experiment's paper label so reports can name them.
#pragma once

#include <string>

namespace lmlab {

// The title of the paper whose arXiv id appears in `paper_label` ("P4 RA/RVA (arXiv 2402.01515)");
// "" for a label without an arXiv id ("foundation (no paper)"). InternalError for an arXiv id that
// is not one of the ten papers.
std::string paper_title(const std::string& paper_label);

}  // namespace lmlab
