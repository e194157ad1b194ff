// read_archive_bytes / read_archive_file (lmlab/core/archive.h): what lmlab writes reads back;
// a foreign, truncated or corrupt archive is a DataError before LibTorch's reader can crash or
// allocate what the file cannot back (the `checkpoint` fuzz target's findings).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmlab/core/archive.h"
#include "support/usage_error.h"

namespace lmlab {
namespace {

using test_support::data_error;

// An archive as OutputArchive writes it: a string, an int and a tensor.
std::string small_archive() {
  torch::serialize::OutputArchive archive;
  archive.write("kind", c10::IValue(std::string("abcdefgh")));
  archive.write("format_version", c10::IValue(int64_t{1}));
  archive.write("steps", torch::tensor(int64_t{7}));
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

// `bytes` with the first `from` replaced by `to` (of the same length).
std::string replaced(std::string bytes, const std::string& from, const std::string& to) {
  const size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' in the archive";
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  return bytes;
}

std::string read_error(const std::string& bytes) {
  return data_error([&] {
    torch::serialize::InputArchive archive;
    read_archive_bytes(archive, bytes, "test state", "write it again");
  });
}

TEST(Archive, WhatLmlabWritesReadsBackFromBytesAndFiles) {
  const std::string bytes = small_archive();
  torch::serialize::InputArchive archive;
  read_archive_bytes(archive, bytes, "test state", "");
  EXPECT_EQ(read_archive_count(archive, "steps", "test state"), 7);
  const auto path = (std::filesystem::temp_directory_path() / "lmlab_archive_test.pt").string();
  std::ofstream(path, std::ios::binary) << bytes;
  torch::serialize::InputArchive from_file;
  read_archive_file(from_file, path, "test file", "");
  c10::IValue kind;
  EXPECT_TRUE(from_file.try_read("kind", kind) && kind.toStringRef() == "abcdefgh");
  std::filesystem::remove(path);
}

TEST(Archive, ForeignAndTruncatedBytesAreDataErrors) {
  EXPECT_MENTIONS(read_error(""), "is empty");
  EXPECT_MENTIONS(read_error("not a zip at all"), "not a LibTorch archive");
  const std::string bytes = small_archive();
  EXPECT_MENTIONS(read_error(bytes.substr(0, bytes.size() / 2)), "no zip directory");
  EXPECT_MENTIONS(read_error(bytes.substr(0, bytes.size() - 1)), "corrupt");
}

// LibTorch's unpickler reserved the 4 GiB a corrupt string length asked for.
TEST(Archive, PickleLengthsBeyondThePickleAreDataErrors) {
  const std::string bad = replaced(small_archive(), std::string("X\x08\x00\x00\x00" "abcdefgh", 13),
                                   std::string("X\xfe\xff\xff\xff" "abcdefgh", 13));
  EXPECT_MENTIONS(read_error(bad), "a length of 4294967294 runs past its end");
}

// LibTorch's TorchScript importer crashed (SEGV) on a class attribute turned into an assignment.
TEST(Archive, CodeOtherThanAttributeDeclarationsIsADataError) {
  const std::string bad = replaced(small_archive(), "  kind : str", "  kind = str");
  EXPECT_MENTIONS(read_error(bad), "which lmlab does not write");
}

// Entries of the zip directory must lie inside the file: LibTorch allocates the declared size.
TEST(Archive, ZipEntriesBeyondTheFileAreDataErrors) {
  std::string bytes = small_archive();
  const size_t dir = bytes.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(dir, std::string::npos);
  bytes.replace(dir + 20, 8, std::string("\xff\xff\xff\x7f\xff\xff\xff\x7f", 8));  // both sizes 2^31 - 1
  EXPECT_MENTIONS(read_error(bytes), "runs past the end of the file");
}

// LibTorch's zip reader (miniz) takes the zip64 directory when its locator stands before the end
// record, whatever the end record says; the check read the end record, so a file whose end record
// announced no entries got a corrupt pickle past it (the `packed` fuzz target's finding).
TEST(Archive, TheZipDirectoryIsTheOneLibTorchReads) {
  const auto without_end_record = [](std::string bytes) {
    const size_t end = bytes.rfind(std::string("PK\x05\x06", 4));
    EXPECT_NE(end, std::string::npos);
    bytes.replace(end + 4, 16, std::string(16, '\0'));  // no entries, an empty directory at 0
    return bytes;
  };
  torch::serialize::InputArchive archive;
  EXPECT_NO_THROW(read_archive_bytes(archive, without_end_record(small_archive()), "test state", ""));
  const std::string bad = replaced(small_archive(), std::string("X\x08\x00\x00\x00" "abcdefgh", 13),
                                   std::string("X\xfe\xff\xff\x7f" "abcdefgh", 13));
  EXPECT_MENTIONS(read_error(without_end_record(bad)), "runs past its end");
}

TEST(Archive, NumbersAndTensorsAreChecked) {
  torch::serialize::OutputArchive out;
  out.write("pair", torch::zeros({2}));
  out.write("nan", torch::tensor(NAN));
  out.write("negative", torch::tensor(-3.0));
  out.write("half", torch::tensor(2.5));
  std::ostringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  read_archive_bytes(in, bytes.str(), "state", "");
  EXPECT_MENTIONS(data_error([&] { read_archive_number(in, "missing", "state"); }), "lacks 'missing'");
  EXPECT_MENTIONS(data_error([&] { read_archive_number(in, "pair", "state"); }), "holds 2 values");
  EXPECT_MENTIONS(data_error([&] { read_archive_number(in, "nan", "state"); }), "is nan");
  EXPECT_MENTIONS(data_error([&] { read_archive_count(in, "negative", "state"); }), "a count");
  EXPECT_MENTIONS(data_error([&] { read_archive_count(in, "half", "state"); }), "a count");
  EXPECT_MENTIONS(data_error([&] { read_archive_tensor_like(in, "pair", torch::zeros({3}), "state"); }),
                  "saved for other parameters");
  EXPECT_MENTIONS(data_error([&] { read_archive_tensor_like(in, "nan", torch::zeros({}), "state"); }), "NaN or Inf");
  EXPECT_TRUE(torch::equal(read_archive_tensor_like(in, "pair", torch::ones({2}, torch::kDouble), "state"),
                           torch::zeros({2}, torch::kDouble)));
}

}  // namespace
}  // namespace lmlab
