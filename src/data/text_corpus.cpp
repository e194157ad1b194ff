// Fortunes corpus loader (include/lmlab/data/text_corpus.h): topic discovery and splitting each
// topic file into documents at lines that hold only '%'.
#include "lmlab/data/text_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPackageDir = "/usr/share/games/fortunes";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_topic_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LMLAB_CHECK(in.is_open(), DataError, "fortunes file '", path,
              "' cannot be opened; check its permissions or reinstall the Debian package fortunes");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Appends the documents of one topic file to `out`. A line "%" (or "%\r") ends a document.
void split_into_documents(const std::string& topic, const std::string& content,
                          std::vector<Document>& out) {
  std::string text;
  bool started = false;
  auto flush = [&] {
    if (text.find_first_not_of(" \t\r\n\f\v") != std::string::npos) out.push_back({topic, text});
    text.clear();
    started = false;
  };
  std::istringstream lines(content);
  for (std::string line; std::getline(lines, line);) {
    if (line == "%" || line == "%\r") {
      flush();
    } else {
      if (started) text += '\n';
      text += line;
      started = true;
    }
  }
  flush();
}

}  // namespace

std::string fortunes_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("LMLAB_FORTUNES_DIR");
  return env != nullptr && *env != '\0' ? env : kPackageDir;
}

std::vector<std::string> fortune_topics(const std::string& dir) {
  const std::string root = fortunes_dir(dir);
  const std::string hint =
      "Install the Debian package fortunes (scripts/install-deps.sh does) or set "
      "LMLAB_FORTUNES_DIR to a directory of fortune files";
  std::error_code ec;
  LMLAB_CHECK(fs::is_directory(root, ec), DataError, "fortunes directory '", root,
              "' does not exist. ", hint);
  std::vector<std::string> topics;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_symlink() || !entry.is_regular_file() || ends_with(name, ".dat") ||
        ends_with(name, ".u8")) {
      continue;
    }
    topics.push_back(name);
  }
  LMLAB_CHECK(!ec, DataError, "fortunes directory '", root, "' cannot be listed (", ec.message(),
              ")");
  LMLAB_CHECK(!topics.empty(), DataError, "fortunes directory '", root, "' holds no topic files. ",
              hint);
  std::sort(topics.begin(), topics.end());
  return topics;
}

std::vector<Document> load_fortunes(const std::string& dir,
                                    const std::vector<std::string>& topics) {
  const std::string root = fortunes_dir(dir);
  const std::vector<std::string> available = fortune_topics(root);
  std::vector<std::string> chosen = topics.empty() ? available : topics;
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  for (const std::string& topic : chosen) {
    if (!std::binary_search(available.begin(), available.end(), topic)) {
      std::string list;
      for (const std::string& t : available) list += (list.empty() ? "" : ", ") + t;
      throw UsageError(detail::concat("unknown fortunes topic '", topic, "' in '", root,
                                      "'; available topics: ", list));
    }
  }
  std::vector<Document> docs;
  for (const std::string& topic : chosen) {
    split_into_documents(topic, read_topic_file((fs::path(root) / topic).string()), docs);
  }
  LMLAB_CHECK(!docs.empty(), DataError, "the fortunes files in '", root, "' hold no documents (text between lines ",
              "holding only '%'). Install the Debian package fortunes (scripts/install-deps.sh does) or set ",
              "LMLAB_FORTUNES_DIR to a directory of fortune files");
  return docs;
}

}  // namespace lmlab
