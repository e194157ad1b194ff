// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747) from the Debian package
// dataset-fashion-mnist: four gzip-compressed IDX files in /usr/share/datasets/fashion-mnist/
// (train-{images-idx3,labels-idx1}-ubyte.gz, t10k-{images-idx3,labels-idx1}-ubyte.gz).
//
// Beyond read_idx's checks, the loader requires 28x28 images, as many labels as images, at least
// one example, and labels in 0..9; each problem is a DataError naming the file.
//
// Shapes: N examples, images [N,1,28,28] float32 in [0,1] (pixel / 255), labels [N] int64 in 0..9.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lmlab/data/image_dataset.h"

namespace lmlab {

inline constexpr int64_t kFashionMnistClasses = 10;
inline constexpr int64_t kFashionMnistSide = 28;

// The published class names, indexed by label.
inline constexpr std::array<std::string_view, kFashionMnistClasses> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

enum class ImageSplit { Train, Test };

// The directory used when `dir` is empty: $LMLAB_DATA_DIR if set (and not empty), else the Debian
// package's /usr/share/datasets/fashion-mnist. A non-empty `dir` is returned unchanged.
std::string fashion_mnist_dir(const std::string& dir = "");

// The train (60000 examples) or test (10000) split from fashion_mnist_dir(dir). DataError when
// the directory or a file is missing (the message names the package dataset-fashion-mnist,
// scripts/install-deps.sh and LMLAB_DATA_DIR) or a file is invalid.
ImageDataset load_fashion_mnist(ImageSplit split, const std::string& dir = "");

}  // namespace lmlab
