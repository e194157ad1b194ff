// Deterministic cuts of an ImageDataset (include/lmlab/data/image_dataset.h): a seeded holdout
// split from one torch::randperm on a private generator, and class selection with relabelling.
#include "lmlab/data/image_dataset.h"

#include <set>

#include "lmlab/core/error.h"
#include "lmlab/core/seed.h"

namespace lmlab {
namespace {

ImageDataset take(const ImageDataset& ds, const torch::Tensor& index) {
  return {ds.images.index_select(0, index), ds.labels.index_select(0, index)};
}

}  // namespace

HoldoutSplit split_off(const ImageDataset& ds, int64_t n_holdout, uint64_t seed) {
  LMLAB_CHECK(n_holdout >= 0 && n_holdout <= ds.size(), UsageError, "split_off: n_holdout ",
              n_holdout, " is outside 0..", ds.size(), " (the dataset size)");
  torch::Generator generator = make_generator(seed);
  const torch::Tensor perm = torch::randperm(ds.size(), generator, torch::kInt64);
  const torch::Tensor holdout = std::get<0>(perm.slice(0, 0, n_holdout).sort());
  const torch::Tensor train = std::get<0>(perm.slice(0, n_holdout).sort());
  return {take(ds, train), take(ds, holdout)};
}

ImageDataset select_classes(const ImageDataset& ds, const std::vector<int64_t>& classes,
                            bool relabel) {
  LMLAB_CHECK(!classes.empty(), UsageError,
              "select_classes: the class list is empty; name at least one class");
  const std::set<int64_t> distinct(classes.begin(), classes.end());
  LMLAB_CHECK(distinct.size() == classes.size(), UsageError,
              "select_classes: the class list repeats a class; list each class once");
  LMLAB_CHECK(*distinct.begin() >= 0, UsageError, "select_classes: class ", *distinct.begin(),
              " is negative; classes are labels 0, 1, ...");

  // new_label[c] = position of c in `classes`, or -1 for classes not selected.
  const int64_t max_label = ds.size() > 0 ? ds.labels.max().item<int64_t>() : 0;
  const int64_t table_size = std::max(*distinct.rbegin(), max_label) + 1;
  torch::Tensor new_label = torch::full({table_size}, -1, torch::kInt64);
  for (size_t i = 0; i < classes.size(); ++i) new_label[classes[i]] = static_cast<int64_t>(i);
  const torch::Tensor mapped = new_label.index_select(0, ds.labels);
  const torch::Tensor index = (mapped >= 0).nonzero().squeeze(1);
  ImageDataset out = take(ds, index);
  if (relabel) out.labels = mapped.index_select(0, index);
  return out;
}

}  // namespace lmlab
