// Fortunes corpus: document splitting and topic discovery on a fixture directory, the
// LMLAB_FORTUNES_DIR override, errors, and the hash split (determinism, stability under topic
// selection, fractions on the real package corpus).
#include "lmlab/data/text_corpus.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "lmlab/core/error.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {

const std::string kPackageDir = "/usr/share/games/fortunes";

void write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// alpha: three documents (one after an empty and a blank document, one without a final '%');
// beta: one; plus files that are not topics: an index, a .u8 link, a link, a directory.
std::string fixture_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("lmlab_fortunes_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "off");
  write(dir / "alpha",
        "first\n%\nsecond line\n\tindented %\n%\n%\n   \n\n%\nlast, no terminator\n");
  write(dir / "beta", "%\nb one\n%%\n%\n");
  write(dir / "alpha.dat", "binary index");
  write(dir / "off" / "hidden", "not a topic\n%\n");
  fs::create_symlink("beta", dir / "beta.u8");
  fs::create_symlink("alpha", dir / "gamma");
  return dir.string();
}

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

std::vector<std::string> texts(const std::vector<Document>& docs) {
  std::vector<std::string> out;
  for (const Document& d : docs) out.push_back(d.text);
  return out;
}

bool has_real_corpus() { return fs::exists(kPackageDir + "/fortunes"); }

}  // namespace

TEST(Fortunes, SplitsFilesIntoDocumentsAtPercentLines) {
  const std::string dir = fixture_dir();
  EXPECT_EQ(fortune_topics(dir), (std::vector<std::string>{"alpha", "beta"}));
  const std::vector<Document> docs = load_fortunes(dir);
  EXPECT_EQ(texts(docs), (std::vector<std::string>{"first", "second line\n\tindented %",
                                                   "last, no terminator", "b one\n%%"}));
  EXPECT_EQ(docs[0].topic, "alpha");
  EXPECT_EQ(docs[3].topic, "beta");
  // Topic order is sorted whatever order the caller names them in; repeats load once.
  EXPECT_EQ(texts(load_fortunes(dir, {"beta", "alpha", "beta"})), texts(docs));
  EXPECT_EQ(texts(load_fortunes(dir, {"beta"})), (std::vector<std::string>{"b one\n%%"}));
  fs::remove_all(dir);
}

TEST(Fortunes, UnknownTopicIsUsageErrorListingTopics) {
  const std::string dir = fixture_dir();
  try {
    load_fortunes(dir, {"alpha", "zeta"});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown fortunes topic 'zeta'"), std::string::npos) << what;
    EXPECT_NE(what.find("available topics: alpha, beta"), std::string::npos) << what;
  }
  fs::remove_all(dir);
}

TEST(Fortunes, MissingOrEmptyDirectoryNamesThePackage) {
  const std::string dir = fixture_dir();
  fs::create_directories(dir + "/blank");
  write(fs::path(dir) / "blank" / "spaces", "%\n  \n%\n\t\n%\n");  // topic files, but no document in them
  for (const std::string& bad : {dir + "/nope", dir + "/off/empty", dir + "/blank"}) {
    if (bad.find("empty") != std::string::npos) fs::create_directories(bad);
    try {
      load_fortunes(bad);
      FAIL() << "no error for " << bad;
    } catch (const DataError& e) {
      const std::string what = e.what();
      for (const char* phrase :
           {"package fortunes", "scripts/install-deps.sh", "LMLAB_FORTUNES_DIR"}) {
        EXPECT_NE(what.find(phrase), std::string::npos) << what;
      }
      EXPECT_NE(what.find(bad), std::string::npos) << what;
    }
  }
  fs::remove_all(dir);
}

TEST(Fortunes, DirectoryEnvironmentVariableIsHonoured) {
  const std::string dir = fixture_dir();
  {
    ScopedEnv env("LMLAB_FORTUNES_DIR", dir);
    EXPECT_EQ(load_fortunes().size(), 4u);
    EXPECT_EQ(fortunes_dir("/explicit"), "/explicit");
  }
  {
    ScopedEnv env("LMLAB_FORTUNES_DIR", "");
    EXPECT_EQ(fortunes_dir(), kPackageDir);
  }
  fs::remove_all(dir);
}

TEST(DocumentSplit, HashIsFnv1a64AndSplitDependsOnlyOnText) {
  EXPECT_EQ(fnv1a_64(""), 0xcbf29ce484222325ull);  // published FNV-1a test vectors
  EXPECT_EQ(fnv1a_64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a_64("foobar"), 0x85944171f73967e8ull);
  for (const std::string text : {"x", "a fortune", "another one\nwith two lines"}) {
    EXPECT_EQ(split_of(text), split_of(std::string(text)));
    EXPECT_EQ(split_of(text, TextSplitOptions().train(1.0).validation(0.0)), TextSplit::Train);
    EXPECT_EQ(split_of(text, TextSplitOptions().train(0.0).validation(1.0)), TextSplit::Validation);
    EXPECT_EQ(split_of(text, TextSplitOptions().train(0.0).validation(0.0)), TextSplit::Test);
  }
}

TEST(DocumentSplit, BadFractionsAreUsageErrors) {
  EXPECT_THROW(TextSplitOptions().train(1.5), UsageError);
  EXPECT_THROW(TextSplitOptions().validation(-0.1), UsageError);
  try {
    split_of("x", TextSplitOptions().train(0.9).validation(0.2));
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds 1"), std::string::npos) << e.what();
  }
}

TEST(DocumentSplit, RealCorpusFractionsAndStabilityUnderTopicSelection) {
  if (!has_real_corpus()) GTEST_SKIP() << "the Debian package fortunes is not installed";
  const std::vector<Document> all = load_fortunes(kPackageDir);
  std::map<TextSplit, size_t> count;
  for (TextSplit s : {TextSplit::Train, TextSplit::Validation, TextSplit::Test}) {
    count[s] = select_split(all, s).size();
  }
  const double n = static_cast<double>(all.size());
  ASSERT_GT(n, 5000);
  std::cout << "fortunes: " << all.size() << " documents; train " << count[TextSplit::Train]
            << ", validation " << count[TextSplit::Validation] << ", test "
            << count[TextSplit::Test] << "\n";
  EXPECT_EQ(count[TextSplit::Train] + count[TextSplit::Validation] + count[TextSplit::Test],
            all.size());
  // Binomial standard deviation of a 0.1 fraction over n > 5000 documents is below 0.0043;
  // 0.02 allows for duplicated texts, which move together.
  EXPECT_NEAR(count[TextSplit::Train] / n, 0.8, 0.02);
  EXPECT_NEAR(count[TextSplit::Validation] / n, 0.1, 0.02);
  EXPECT_NEAR(count[TextSplit::Test] / n, 0.1, 0.02);

  // The split of the topics {computers, science} equals the full split restricted to them.
  const std::vector<Document> some = load_fortunes(kPackageDir, {"science", "computers"});
  for (TextSplit s : {TextSplit::Train, TextSplit::Validation, TextSplit::Test}) {
    std::vector<std::string> restricted;
    for (const Document& d : select_split(all, s)) {
      if (d.topic == "computers" || d.topic == "science") restricted.push_back(d.text);
    }
    EXPECT_EQ(texts(select_split(some, s)), restricted);
  }
}
