// Finding runs on disk: the run directories below a directory (a run's summary.json marks it), and
// the reproductions below one (`lmlab reproduce` writes claims.json into each).
#pragma once

#include <string>
#include <vector>

namespace lmlab {

// `root` itself if it holds summary.json, else every directory below it that does, sorted; empty
// when there is none. `root` must be a directory.
std::vector<std::string> find_run_dirs(const std::string& root);

// The directories below `root` (not `root` itself) that hold claims.json, oldest first: ordered by
// the earliest "started" of their runs, then by name.
std::vector<std::string> find_reproductions(const std::string& root);

}  // namespace lmlab
