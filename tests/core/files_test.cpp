// Run-directory file helpers: atomic writes, appends, clear errors for unwritable places.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <functional>

#include "core/files.h"
#include "lmlab/core/error.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {
std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("lmlab_files_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST(Files, AtomicWriteReplacesWholeFileAndLeavesNoTemporary) {
  const std::string dir = temp_dir("atomic");
  write_file_atomic(dir + "/a.txt", "first");
  write_file_atomic(dir + "/a.txt", "second");
  EXPECT_EQ(read_file(dir + "/a.txt"), "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
  fs::remove_all(dir);
}

TEST(Files, AppendAddsLines) {
  const std::string dir = temp_dir("append");
  append_line(dir + "/m.jsonl", "{\"a\":1}");
  append_line(dir + "/m.jsonl", "{\"a\":2}");
  EXPECT_EQ(read_file(dir + "/m.jsonl"), "{\"a\":1}\n{\"a\":2}\n");
  fs::remove_all(dir);
}

TEST(Files, UnwritableLocationsAreDataErrors) {
  const std::string dir = temp_dir("bad");
  write_file_atomic(dir + "/file", "x");
  // A directory below a regular file cannot exist, even for root.
  try {
    make_directories(dir + "/file/sub");
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create directory"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--out"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_file_atomic(dir + "/file/x", "y"), DataError);
  EXPECT_THROW(read_file(dir + "/missing"), DataError);
  EXPECT_EQ(read_file(dir + "/file"), "x");  // the failed writes left the file alone
  fs::remove_all(dir);
}

// What a file must be before it is read: regular (devices and FIFOs, also behind a symlink, are
// refused without a read or a wait) and within the size cap.
TEST(Files, ReadsOnlyRegularFilesWithinTheCap) {
  const std::string dir = temp_dir("read");
  auto why = [](const std::function<void()>& read) {
    try {
      read();
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  fs::create_symlink("/dev/zero", dir + "/log.txt");
  EXPECT_NE(why([&] { read_file(dir + "/log.txt"); }).find("not a regular file"), std::string::npos);
  ASSERT_EQ(::mkfifo((dir + "/summary.json").c_str(), 0644), 0);
  EXPECT_NE(why([&] { read_file(dir + "/summary.json"); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(why([&] { read_file(dir); }).find("not a regular file"), std::string::npos);
  write_file_atomic(dir + "/big", std::string(1000, 'x'));
  EXPECT_NE(why([&] { read_file(dir + "/big", 999); }).find("1000 bytes, more than the 999"), std::string::npos);
  EXPECT_EQ(read_file(dir + "/big", 1000).size(), 1000u);
  fs::remove_all(dir);
}
