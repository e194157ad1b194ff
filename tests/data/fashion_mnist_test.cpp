// IDX reader and Fashion-MNIST loader: every bad-file case on generated fixtures in a temporary
// directory, the LMLAB_DATA_DIR override, and the published facts of the real package files.
#include "lmlab/data/fashion_mnist.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "lmlab/core/env.h"
#include "lmlab/core/error.h"
#include "lmlab/data/idx.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {

const std::string kPackageDir = "/usr/share/datasets/fashion-mnist";

std::string temp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("lmlab_fmnist_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// An IDX file's bytes: big-endian magic and sizes, then `data`.
std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& sizes, const std::string& data) {
  std::string out;
  auto put = [&out](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
  };
  put(magic);
  for (uint32_t s : sizes) put(s);
  return out + data;
}

// `n` bytes that deflate cannot shrink much, so a cut in the compressed file lands mid-stream.
std::string noisy_bytes(size_t n) {
  std::string out;
  uint32_t state = 12345;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    out += static_cast<char>(state >> 24);
  }
  return out;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  gzclose(f);
}

std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `f`, expects an exception of type E whose message holds every phrase; returns the message.
template <typename E, typename F>
std::string expect_error(F f, const std::vector<std::string>& phrases) {
  try {
    f();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const std::string& p : phrases) EXPECT_NE(what.find(p), std::string::npos) << what;
    return what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

// Writes a valid split "train" of n 28x28 images with labels 0..n-1 (mod 10) into `dir`.
void write_fashion_fixture(const std::string& dir, uint32_t n, uint32_t side = 28,
                           uint32_t n_labels = 0, char bad_label = 0) {
  write_gz(dir + "/train-images-idx3-ubyte.gz",
           idx_bytes(kIdxImagesMagic, {n, side, side}, noisy_bytes(n * side * side)));
  n_labels = n_labels == 0 ? n : n_labels;
  std::string labels;
  for (uint32_t i = 0; i < n_labels; ++i) labels += static_cast<char>(i % 10);
  if (bad_label != 0) labels.back() = bad_label;
  write_gz(dir + "/train-labels-idx1-ubyte.gz", idx_bytes(kIdxLabelsMagic, {n_labels}, labels));
}

// Sets an environment variable for one scope and restores the previous state.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(ReadIdx, ValidGzipAndPlainFilesGiveTheHeaderShape) {
  const std::string dir = temp_dir("valid");
  const std::string data = noisy_bytes(2 * 3 * 4);
  write_gz(dir + "/a.gz", idx_bytes(kIdxImagesMagic, {2, 3, 4}, data));
  write_raw(dir + "/a.idx", idx_bytes(kIdxImagesMagic, {2, 3, 4}, data));
  for (const std::string& path : {dir + "/a.gz", dir + "/a.idx"}) {
    const torch::Tensor t = read_idx(path, kIdxImagesMagic);
    EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(t.scalar_type(), torch::kUInt8);
    EXPECT_EQ(t[1][2][3].item<int64_t>(), static_cast<uint8_t>(data[23]));
    EXPECT_EQ(t[0][0][1].item<int64_t>(), static_cast<uint8_t>(data[1]));
  }
  EXPECT_EQ(read_idx(dir + "/a.gz").dim(), 3);  // any unsigned-byte IDX without expected magic
  fs::remove_all(dir);
}

// 24 data bytes need 120 with their float32 copy: refused under a 100-byte limit, read under 120.
TEST(ReadIdx, AFileAboveTheMemoryLimitIsRefusedBeforeItsDataIsRead) {
  const std::string dir = temp_dir("memory");
  write_raw(dir + "/a.idx", idx_bytes(kIdxImagesMagic, {2, 3, 4}, noisy_bytes(24)));
  const uint64_t limit = memory_limit();
  set_memory_limit(100);
  EXPECT_THROW(read_idx(dir + "/a.idx"), UsageError);
  set_memory_limit(120);
  EXPECT_EQ(read_idx(dir + "/a.idx").numel(), 24);
  set_memory_limit(limit);
  fs::remove_all(dir);
}

TEST(ReadIdx, WrongMagicNamesFileAndBothNumbers) {
  const std::string dir = temp_dir("magic");
  write_gz(dir + "/labels.gz", idx_bytes(kIdxLabelsMagic, {3}, "abc"));
  expect_error<DataError>([&] { read_idx(dir + "/labels.gz", kIdxImagesMagic); },
                          {dir + "/labels.gz", "bad magic number 2049", "expected 2051"});
  write_gz(dir + "/text.gz", "hello world, not an IDX file");
  expect_error<DataError>([&] { read_idx(dir + "/text.gz"); }, {"text.gz", "bad magic number"});
  write_gz(dir + "/empty.gz", "");
  expect_error<DataError>([&] { read_idx(dir + "/empty.gz"); }, {"empty.gz", "shorter than"});
  fs::remove_all(dir);
}

TEST(ReadIdx, TruncatedDataAndTrailingBytesAreErrors) {
  const std::string dir = temp_dir("length");
  write_gz(dir + "/short.gz", idx_bytes(kIdxImagesMagic, {2, 2, 3}, "0123456789"));
  expect_error<DataError>([&] { read_idx(dir + "/short.gz", kIdxImagesMagic); },
                          {"short.gz", "truncated", "promises 12 data bytes", "holds 10"});
  write_gz(dir + "/long.gz", idx_bytes(kIdxLabelsMagic, {3}, "abcd"));
  expect_error<DataError>([&] { read_idx(dir + "/long.gz", kIdxLabelsMagic); },
                          {"long.gz", "trailing bytes"});
  write_gz(dir + "/header.gz", idx_bytes(kIdxImagesMagic, {2}, ""));
  expect_error<DataError>([&] { read_idx(dir + "/header.gz"); }, {"header.gz", "header truncated"});
  // A header promising 10^9 images is refused before anything is allocated.
  write_gz(dir + "/huge.gz", idx_bytes(kIdxImagesMagic, {1000000000, 28, 28}, "0123"));
  expect_error<DataError>([&] { read_idx(dir + "/huge.gz", kIdxImagesMagic); },
                          {"huge.gz", "promises 784000000000 data bytes, more than a file of"});
  fs::remove_all(dir);
}

TEST(ReadIdx, DamagedGzipStreamsAreErrors) {
  const std::string dir = temp_dir("gzip");
  write_gz(dir + "/good.gz", idx_bytes(kIdxLabelsMagic, {4000}, noisy_bytes(4000)));
  const std::string gz = read_raw(dir + "/good.gz");

  write_raw(dir + "/cut.gz", gz.substr(0, gz.size() / 2));
  expect_error<DataError>([&] { read_idx(dir + "/cut.gz"); }, {"cut.gz", "gzip stream ends early"});

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x5a;  // the CRC-32 in the gzip trailer
  write_raw(dir + "/crc.gz", bad_crc);
  expect_error<DataError>([&] { read_idx(dir + "/crc.gz"); }, {"crc.gz", "corrupt gzip stream"});

  // Damage inside the deflate data: zlib may report a bad block, a bad CRC or a wrong length;
  // every outcome must be a DataError naming the file.
  std::string bad_body = gz;
  for (size_t i = 40; i < 60; ++i) bad_body[i] = static_cast<char>(~bad_body[i]);
  write_raw(dir + "/body.gz", bad_body);
  expect_error<DataError>([&] { read_idx(dir + "/body.gz"); }, {"body.gz"});
  fs::remove_all(dir);
}

TEST(ReadIdx, MissingFileIsDataError) {
  expect_error<DataError>([] { read_idx("/nonexistent/lmlab/x.gz"); },
                          {"/nonexistent/lmlab/x.gz", "file not found"});
}

TEST(FashionMnist, LoadsFixtureAsScaledFloatsAndInt64Labels) {
  const std::string dir = temp_dir("fixture");
  write_fashion_fixture(dir, 3);
  const ImageDataset ds = load_fashion_mnist(ImageSplit::Train, dir);
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.images.sizes(), (std::vector<int64_t>{3, 1, 28, 28}));
  EXPECT_EQ(ds.images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(ds.labels.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(ds.labels, torch::tensor({0, 1, 2}, torch::kInt64)));
  const torch::Tensor raw =
      read_idx(dir + "/train-images-idx3-ubyte.gz").to(torch::kFloat32) / 255.0f;
  EXPECT_TRUE(torch::equal(ds.images.squeeze(1), raw));
  fs::remove_all(dir);
}

TEST(FashionMnist, InvalidContentsAreDataErrorsNamingTheFile) {
  const std::string dir = temp_dir("invalid");
  write_fashion_fixture(dir, 2, /*side=*/27);
  expect_error<DataError>([&] { load_fashion_mnist(ImageSplit::Train, dir); },
                          {"train-images-idx3-ubyte.gz", "27x27", "expected 28x28"});
  write_fashion_fixture(dir, 4, 28, /*n_labels=*/3);
  expect_error<DataError>([&] { load_fashion_mnist(ImageSplit::Train, dir); },
                          {"4 images", "3 labels", "train-labels-idx1-ubyte.gz"});
  write_fashion_fixture(dir, 3, 28, 0, /*bad_label=*/10);
  expect_error<DataError>([&] { load_fashion_mnist(ImageSplit::Train, dir); },
                          {"train-labels-idx1-ubyte.gz", "label 10", "0..9"});
  fs::remove_all(dir);
}

TEST(FashionMnist, MissingDirectoryOrFileNamesThePackageAndTheFix) {
  const std::string dir = temp_dir("missing");
  const std::vector<std::string> fix = {"dataset-fashion-mnist", "scripts/install-deps.sh",
                                        "LMLAB_DATA_DIR"};
  auto phrases = [&](std::string first) {
    std::vector<std::string> all = fix;
    all.push_back(std::move(first));
    return all;
  };
  expect_error<DataError>([&] { load_fashion_mnist(ImageSplit::Test, dir + "/nope"); },
                          phrases(dir + "/nope"));
  write_fashion_fixture(dir, 3);  // train files only: the test split is missing
  expect_error<DataError>([&] { load_fashion_mnist(ImageSplit::Test, dir); },
                          phrases("t10k-images-idx3-ubyte.gz"));
  fs::remove_all(dir);
}

TEST(FashionMnist, DataDirEnvironmentVariableIsHonoured) {
  const std::string dir = temp_dir("env");
  write_fashion_fixture(dir, 5);
  {
    ScopedEnv env("LMLAB_DATA_DIR", dir);
    EXPECT_EQ(fashion_mnist_dir(), dir);
    EXPECT_EQ(fashion_mnist_dir("/explicit"), "/explicit");  // an explicit directory wins
    EXPECT_EQ(load_fashion_mnist(ImageSplit::Train).size(), 5);
  }
  {
    ScopedEnv env("LMLAB_DATA_DIR", "");
    EXPECT_EQ(fashion_mnist_dir(), kPackageDir);
  }
  fs::remove_all(dir);
}

TEST(FashionMnist, RealPackageFilesMatchThePublishedCounts) {
  if (!fs::exists(kPackageDir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const ImageDataset train = load_fashion_mnist(ImageSplit::Train, kPackageDir);
  const ImageDataset test = load_fashion_mnist(ImageSplit::Test, kPackageDir);
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(test.images.sizes(), (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_GE(train.images.min().item<float>(), 0.0f);
  EXPECT_LE(train.images.max().item<float>(), 1.0f);
  EXPECT_EQ(train.images.max().item<float>(), 1.0f);  // some pixel is 255
  // Balanced classes: 6000 per class in train, 1000 in test (Xiao et al. 2017).
  EXPECT_TRUE(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kInt64)));
  EXPECT_TRUE(torch::equal(torch::bincount(test.labels), torch::full({10}, 1000, torch::kInt64)));
  EXPECT_EQ(kFashionMnistClassNames.front(), "T-shirt/top");
  EXPECT_EQ(kFashionMnistClassNames.back(), "Ankle boot");
}
