// Child processes a few at a time (include/lmlab/core/job_pool.h): posix_spawn with the log file
// as stdout and stderr, then a poll of each running child with waitpid(pid, WNOHANG) every 20 ms.
// Waiting on each pid by name (not waitpid(-1)) leaves any other child of the caller alone.
#include "lmlab/core/job_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/files.h"
#include "lmlab/core/error.h"

extern char** environ;

namespace lmlab {
namespace {

using Clock = std::chrono::steady_clock;

struct Running {
  size_t index;
  pid_t pid;
  Clock::time_point start;
};

pid_t spawn(const Job& job) {
  LMLAB_CHECK(!job.argv.empty(), UsageError, "a job needs a program to run");
  make_directories(std::filesystem::path(job.log_path).parent_path().string());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, job.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> argv;
  for (const std::string& a : job.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  LMLAB_CHECK(err == 0, DataError, "cannot start ", job.argv[0], " with its output in ", job.log_path, ": ",
              std::strerror(err), "; check that the program exists and the log's directory is writable");
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

// Stops and reaps every running child; used when an exception leaves run_jobs.
void stop_all(std::vector<Running>& running) {
  for (const Running& r : running) kill(r.pid, SIGTERM);
  for (const Running& r : running) {
    int status = 0;
    while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  running.clear();
}

}  // namespace

std::string JobResult::how() const {
  if (exit_code <= 128) return "exit " + std::to_string(exit_code);
  const int sig = exit_code - 128;
  return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

void run_jobs(const std::vector<Job>& jobs, int parallel, const std::function<void(size_t)>& on_start,
              const std::function<void(size_t, const JobResult&)>& on_finish) {
  LMLAB_CHECK(parallel >= 1, UsageError, "the number of jobs at once must be >= 1; got ", parallel);
  std::vector<Running> running;
  size_t next = 0;
  try {
    while (next < jobs.size() || !running.empty()) {
      while (next < jobs.size() && static_cast<int>(running.size()) < parallel) {
        running.push_back({next, spawn(jobs[next]), Clock::now()});
        on_start(next++);
      }
      bool reaped = false;
      for (size_t i = 0; i < running.size();) {
        int status = 0;
        const pid_t done = waitpid(running[i].pid, &status, WNOHANG);
        if (done == 0 || (done < 0 && errno == EINTR)) {
          ++i;
          continue;
        }
        const Running r = running[i];
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        reaped = true;
        JobResult result;
        result.exit_code = done < 0 ? 1 : exit_code_of(status);
        result.wall_s = std::chrono::duration<double>(Clock::now() - r.start).count();
        on_finish(r.index, result);
      }
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } catch (...) {
    stop_all(running);
    throw;
  }
}

std::string self_executable() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

}  // namespace lmlab
