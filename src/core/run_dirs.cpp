// Finding runs and reproductions on disk (include/lmlab/core/run_dirs.h).
#include "lmlab/core/run_dirs.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "core/run_record.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

// Every directory below `root` (not root itself) that holds `file`, sorted.
std::vector<std::string> dirs_holding(const std::string& root, const char* file) {
  std::vector<std::string> dirs;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    if (it.depth() > 0 && it->is_regular_file() && it->path().filename() == file)
      dirs.push_back(it->path().parent_path().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

std::vector<std::string> find_run_dirs(const std::string& root) {
  if (fs::exists(fs::path(root) / "summary.json")) return {root};
  return dirs_holding(root, "summary.json");
}

std::vector<std::string> find_reproductions(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> dated;  // (started, dir)
  for (const std::string& dir : dirs_holding(root, "claims.json"))
    dated.emplace_back(earliest_start(load_runs(find_run_dirs(dir))), dir);
  std::sort(dated.begin(), dated.end());
  std::vector<std::string> dirs;
  for (const auto& d : dated) dirs.push_back(d.second);
  return dirs;
}

}  // namespace lmlab
