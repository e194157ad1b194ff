// Fashion-MNIST loader (include/lmlab/data/fashion_mnist.h): locates the Debian package's files,
// reads them with read_idx and checks what the IDX header alone cannot (28x28, counts, labels).
#include "lmlab/data/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>

#include "lmlab/core/error.h"
#include "lmlab/data/idx.h"

namespace lmlab {
namespace {

constexpr const char* kPackageDir = "/usr/share/datasets/fashion-mnist";

std::string install_hint() {
  return detail::concat(
      "Install the Debian package dataset-fashion-mnist (scripts/install-deps.sh ",
      "does) or set LMLAB_DATA_DIR to a directory holding the four Fashion-MNIST ",
      "*-ubyte.gz files");
}

}  // namespace

std::string fashion_mnist_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("LMLAB_DATA_DIR");
  return env != nullptr && *env != '\0' ? env : kPackageDir;
}

ImageDataset load_fashion_mnist(ImageSplit split, const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string root = fashion_mnist_dir(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw DataError(
        detail::concat("Fashion-MNIST directory '", root, "' does not exist. ", install_hint()));
  }
  const std::string prefix = split == ImageSplit::Train ? "train" : "t10k";
  const std::string images_path = (fs::path(root) / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string labels_path = (fs::path(root) / (prefix + "-labels-idx1-ubyte.gz")).string();
  for (const std::string& path : {images_path, labels_path}) {
    if (!fs::exists(path, ec)) {
      throw DataError(
          detail::concat("Fashion-MNIST file '", path, "' is missing. ", install_hint()));
    }
  }

  const torch::Tensor images = read_idx(images_path, kIdxImagesMagic);
  const torch::Tensor labels = read_idx(labels_path, kIdxLabelsMagic);
  LMLAB_CHECK(images.size(1) == kFashionMnistSide && images.size(2) == kFashionMnistSide, DataError,
              "Fashion-MNIST file '", images_path, "' holds ", images.size(1), "x", images.size(2),
              " images, expected ", kFashionMnistSide, "x", kFashionMnistSide,
              ". Restore the file (sudo apt-get install --reinstall dataset-fashion-mnist)");
  LMLAB_CHECK(images.size(0) == labels.size(0) && images.size(0) > 0, DataError,
              "Fashion-MNIST files disagree: '", images_path, "' holds ", images.size(0),
              " images but '", labels_path, "' holds ", labels.size(0),
              " labels. Restore both (sudo apt-get install --reinstall dataset-fashion-mnist)");
  const int64_t max_label = labels.max().item<int64_t>();
  LMLAB_CHECK(max_label < kFashionMnistClasses, DataError, "Fashion-MNIST file '", labels_path,
              "' holds label ", max_label, ", expected labels 0..", kFashionMnistClasses - 1,
              ". Restore the file (sudo apt-get install --reinstall dataset-fashion-mnist)");

  return {images.to(torch::kFloat32).div_(255.0f).unsqueeze_(1), labels.to(torch::kInt64)};
}

}  // namespace lmlab
