// split_off and select_classes on a small dataset whose images encode their index, so every
// selected example can be traced back to the original.
#include "lmlab/data/image_dataset.h"

#include <gtest/gtest.h>

#include "lmlab/core/error.h"

using namespace lmlab;

namespace {

// 20 one-pixel "images" holding their own index; label = index mod 10.
ImageDataset indexed_dataset() {
  const torch::Tensor index = torch::arange(20, torch::kInt64);
  return {index.to(torch::kFloat32).view({20, 1, 1, 1}), index.remainder(10)};
}

torch::Tensor original_index(const ImageDataset& ds) {
  return ds.images.flatten().to(torch::kInt64);
}

}  // namespace

TEST(SplitOff, PartitionsDeterministicallyAndKeepsOrder) {
  const ImageDataset ds = indexed_dataset();
  const HoldoutSplit a = split_off(ds, 6, 7);
  const HoldoutSplit b = split_off(ds, 6, 7);
  EXPECT_EQ(a.holdout.size(), 6);
  EXPECT_EQ(a.train.size(), 14);
  EXPECT_TRUE(torch::equal(a.holdout.images, b.holdout.images));
  EXPECT_TRUE(torch::equal(a.train.labels, b.train.labels));
  // Together the parts hold every example once, each part in increasing original order.
  const torch::Tensor all = torch::cat({original_index(a.train), original_index(a.holdout)});
  EXPECT_TRUE(torch::equal(std::get<0>(all.sort()), torch::arange(20, torch::kInt64)));
  for (const ImageDataset* part : {&a.train, &a.holdout}) {
    const torch::Tensor idx = original_index(*part);
    EXPECT_TRUE(torch::equal(idx, std::get<0>(idx.sort())));
    EXPECT_TRUE(torch::equal(part->labels, idx.remainder(10)));  // labels travel with images
  }
  EXPECT_FALSE(torch::equal(split_off(ds, 6, 8).holdout.images, a.holdout.images));
  EXPECT_EQ(split_off(ds, 0, 1).train.size(), 20);
  EXPECT_EQ(split_off(ds, 20, 1).holdout.size(), 20);
}

TEST(SplitOff, HoldoutLargerThanDatasetIsUsageError) {
  try {
    split_off(indexed_dataset(), 21, 0);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("n_holdout 21"), std::string::npos) << e.what();
  }
  EXPECT_THROW(split_off(indexed_dataset(), -1, 0), UsageError);
}

TEST(SelectClasses, KeepsOrderAndRelabelsByPosition) {
  const ImageDataset ds = indexed_dataset();
  const ImageDataset high = select_classes(ds, {5, 6, 7, 8, 9});
  EXPECT_TRUE(torch::equal(original_index(high),
                           torch::tensor({5, 6, 7, 8, 9, 15, 16, 17, 18, 19}, torch::kInt64)));
  EXPECT_TRUE(
      torch::equal(high.labels, torch::tensor({0, 1, 2, 3, 4, 0, 1, 2, 3, 4}, torch::kInt64)));

  const ImageDataset kept = select_classes(ds, {3, 1}, /*relabel=*/false);
  EXPECT_TRUE(torch::equal(kept.labels, torch::tensor({1, 3, 1, 3}, torch::kInt64)));
  EXPECT_TRUE(
      torch::equal(select_classes(ds, {3, 1}).labels, torch::tensor({1, 0, 1, 0}, torch::kInt64)));
  EXPECT_EQ(select_classes(ds, {12}).size(), 0);  // a class with no examples selects none
}

TEST(SelectClasses, BadClassListsAreUsageErrors) {
  const ImageDataset ds = indexed_dataset();
  for (const std::vector<int64_t>& bad : {std::vector<int64_t>{}, {1, 1}, {-1, 2}}) {
    EXPECT_THROW(select_classes(ds, bad), UsageError);
  }
  try {
    select_classes(ds, {2, 2});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("repeats a class"), std::string::npos) << e.what();
  }
}
