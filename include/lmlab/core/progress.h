// Progress of long work: a bar with rate and ETA on a terminal, plain periodic lines otherwise
// (and in log.txt through the optional line sink).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace lmlab {

class Progress {
 public:
  using LineSink = std::function<void(const std::string&)>;

  // `total` units of work; `sink` receives the plain lines (every `interval_s` seconds and at the
  // end). The bar goes to stderr only when stderr is a terminal.
  Progress(std::string label, int64_t total, LineSink sink = {}, double interval_s = 10.0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Marks `n` more units done; `status` is a short note shown after the rate ("loss 0.52").
  void advance(int64_t n = 1, const std::string& status = "");
  // Marks `n` units done that cost nothing now (a resumed run's stored points): they count towards
  // done but not towards the rate, so the ETA reflects the work left.
  void skip(int64_t n = 1);
  // Ends the bar and emits the final line; called by the destructor if not called before.
  void finish();

  // "1m05s", "3.2s": used for the ETA and elapsed times.
  static std::string format_seconds(double s);

 private:
  std::string line() const;
  std::string label_;
  int64_t total_, done_ = 0, skipped_ = 0;
  std::string status_;
  LineSink sink_;
  double interval_s_;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_line_, last_draw_;
};

}  // namespace lmlab
