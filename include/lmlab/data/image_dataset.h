// A labelled image dataset in memory, and deterministic ways to cut it: a seeded holdout split
// (validation sets, subsets) and class selection (pretrain on some classes, adapt to the others).
//
// Shapes: N examples, images [N,C,H,W] float32, labels [N] int64.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace lmlab {

struct ImageDataset {
  torch::Tensor images;  // [N,C,H,W] float32
  torch::Tensor labels;  // [N] int64
  int64_t size() const { return labels.size(0); }
};

struct HoldoutSplit {
  ImageDataset train;    // the size() - n_holdout examples not held out
  ImageDataset holdout;  // n_holdout examples
};

// Holds out `n_holdout` examples (0 <= n_holdout <= size()) drawn uniformly without replacement
// by a generator seeded with `seed`; both parts keep the original order. The same seed gives the
// same split. A deterministic subset of n examples is split_off(ds, n, seed).holdout.
HoldoutSplit split_off(const ImageDataset& ds, int64_t n_holdout, uint64_t seed);

// The examples whose label is in `classes` (non-empty, distinct, each >= 0), in their original
// order. With `relabel`, label classes[i] becomes i, so {5,6,7,8,9} maps to 0..4.
ImageDataset select_classes(const ImageDataset& ds, const std::vector<int64_t>& classes,
                            bool relabel = true);

}  // namespace lmlab
