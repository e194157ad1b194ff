// Running commands as child processes, a few at a time (`lmlab reproduce --jobs N`).
//
// Each job is a program and its arguments; its standard output and error go to its own log file.
// Jobs start in the order given, at most `parallel` at once: a job starts as soon as one ends, so a
// long job does not hold the others back. A job that fails or is killed does not stop the others.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace lmlab {

struct Job {
  std::vector<std::string> argv;  // argv[0] is the program's path (no PATH search)
  std::string log_path;           // stdout and stderr, created (with its directory) or truncated
};

struct JobResult {
  int exit_code = 0;  // the child's exit status; 128 + N when signal N killed it
  double wall_s = 0;
  // "exit 0", "exit 3", "killed by signal 9 (Killed)".
  std::string how() const;
};

// Runs `jobs`, at most `parallel` (>= 1) at once. on_start(i) is called as job i starts and
// on_finish(i, result) as it ends, both on the calling thread. A job that cannot start (its program
// is missing, its log cannot be created) throws DataError; whenever an exception leaves (that one, or
// one a callback throws), the running jobs have been stopped (SIGTERM) and waited for.
void run_jobs(const std::vector<Job>& jobs, int parallel, const std::function<void(size_t)>& on_start,
              const std::function<void(size_t, const JobResult&)>& on_finish);

// The path of the running program (/proc/self/exe), to start more copies of it.
std::string self_executable();

}  // namespace lmlab
