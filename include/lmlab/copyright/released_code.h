// What the authors' released code computes for the protected loss (P10, arXiv 2308.12247; the
// defects are listed in NOTES.md P10), emulated for a side-by-side comparison with the correct
// protected_loss (protected_loss.h). Do not train with it for protection; it reproduces:
//   1. row selection by an integer 0/1 tensor: each batch row b is flagged f_b = 1 when any of its
//      targets is copyrighted [ours: the released code flags whole sequences], and the
//      "copyrighted" rows are logits[f] with f an int64 index tensor, i.e. rows 0 and 1 of the
//      batch, B of them, instead of the flagged rows;
//   2. the gamma term on detached hidden states: CE_cp is computed from head(h.detach()), so only
//      the output head (the tied embedding wte when tied) feels gamma / CE_cp;
//   3. evaluation reuses the training loss, gamma term included (released_code_eval_loss);
//   4. the logged training loss is the AMP-scaled value: loss x 65536, GradScaler's initial scale
//      (kReleasedCodeLogScale; this CPU build has no AMP, so the scaling is applied to the log only).
// The floor of ProtectedLossOptions applies as in protected_loss (the released code has none).
// Shapes: x, y [B,T] int64; hidden h [B,T,C]; logits [B,T,V].
#pragma once

#include <cstdint>

#include "lmlab/copyright/marked_corpus.h"
#include "lmlab/copyright/protected_loss.h"
#include "lmlab/models/gpt.h"

namespace lmlab::copyright {

inline constexpr double kReleasedCodeLogScale = 65536.0;

// The released code's loss on a batch (defects 1 and 2); ce_cp is the CE of the selected rows,
// copyrighted_tokens the number of tokens in them. The model's head must be the tied embedding or
// a plain linear "head.weight" (UsageError otherwise).
ProtectedLoss released_code_loss(GPT& model, const MarkedBatch& batch, const ProtectedLossOptions& options);

// Defect 3: the mean over the first max_batches (0: all) evaluation batches of `stream` (64 rows
// of the model's context) of released_code_loss, the number the released code reports as its
// evaluation loss; no gradients, eval mode (the training mode is restored).
double released_code_eval_loss(GPT& model, const MarkedTextStream& stream, const ProtectedLossOptions& options,
                               int64_t max_batches = 0);

}  // namespace lmlab::copyright
