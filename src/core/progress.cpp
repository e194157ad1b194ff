// Progress bar and periodic progress lines (include/lmlab/core/progress.h).
#include "lmlab/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace lmlab {
namespace {
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

Progress::Progress(std::string label, int64_t total, LineSink sink, double interval_s)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      sink_(std::move(sink)),
      interval_s_(interval_s),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_line_(start_),
      last_draw_(start_) {}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
    // The last line could not be logged (a full disk): a destructor, often run while that very
    // error unwinds the stack, must not end the process over it.
  }
}

std::string Progress::format_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else if (s < 1e6 * 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02dm", static_cast<long long>(s) / 3600, int(std::fmod(s, 3600)) / 60);
  else std::snprintf(buf, sizeof buf, "%.3gh", s / 3600);  // beyond a million hours (or infinite)
  return buf;
}

std::string Progress::line() const {
  const double elapsed = seconds_between(start_, std::chrono::steady_clock::now());
  const double rate = elapsed > 0 ? (done_ - skipped_) / elapsed : 0.0;
  std::ostringstream os;
  os << label_ << " " << done_ << "/" << total_ << " (" << static_cast<int>(100.0 * done_ / total_) << "%)";
  char buf[64];
  std::snprintf(buf, sizeof buf, " %.3g/s", rate);
  os << buf << " elapsed " << format_seconds(elapsed);
  if (done_ < total_ && rate > 0) os << " eta " << format_seconds((total_ - done_) / rate);
  if (!status_.empty()) os << " | " << status_;
  return os.str();
}

void Progress::advance(int64_t n, const std::string& status) {
  done_ = std::min(total_, done_ + n);
  if (!status.empty()) status_ = status;
  const auto now = std::chrono::steady_clock::now();
  if (tty_ && (seconds_between(last_draw_, now) > 0.1 || done_ == total_)) {
    const int width = 24;
    const int filled = static_cast<int>(width * (static_cast<double>(done_) / total_));
    std::fprintf(stderr, "\r\033[K[%s%s] %s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), line().c_str());
    std::fflush(stderr);
    last_draw_ = now;
  }
  if (seconds_between(last_line_, now) >= interval_s_) {
    if (!tty_) std::fprintf(stderr, "%s\n", line().c_str());
    if (sink_) sink_(line());
    last_line_ = now;
  }
}

void Progress::skip(int64_t n) {
  skipped_ += std::min(n, total_ - done_);
  advance(n);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", line().c_str());
  if (sink_) sink_(line());
}

}  // namespace lmlab
