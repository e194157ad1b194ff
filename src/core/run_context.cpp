// RunContext (include/lmlab/core/run.h).
#include "lmlab/core/run.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/files.h"
#include "core/json_value.h"
#include "core/plot_data.h"
#include "lmlab/core/error.h"

namespace lmlab {

namespace {
const char kPointsFile[] = "points.jsonl";

// `line` with every byte that is not part of valid UTF-8 written as \xNN: sampled text can hold any
// byte, and a reader of the log (torchrun's, which echoes each rank's output) may decode it.
std::string valid_utf8(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size();) {
    const auto c = static_cast<unsigned char>(line[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = n > 0 && i + n <= line.size() && (c < 0xC0 || c >= 0xC2) && c <= 0xF4;
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(line[i + k]) >> 6) == 0x2;
    if (ok && n > 2) {  // no overlong forms, surrogates or code points past U+10FFFF
      const auto d = static_cast<unsigned char>(line[i + 1]);
      ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0) && !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
    }
    if (ok) {
      out.append(line, i, n);
      i += n;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
    }
  }
  return out;
}

}  // namespace

RunContext::RunContext(std::string dir, Config config, uint64_t seed, bool quick)
    : dir_(std::move(dir)), config_(std::move(config)), seed_(seed), quick_(quick) {
  const bool replay = load_points(path(kPointsFile), true);  // every stored point has its metric rows
  // The body runs again from its start, so metrics.jsonl is written again from its start: reused
  // points replay their stored metric rows, the rest log theirs as they run. (Points stored before
  // they kept their rows replay nothing: then metrics.jsonl is appended to, as it was then.)
  if (replay && file_exists(path("metrics.jsonl"))) write_file_atomic(path("metrics.jsonl"), "");
}

bool RunContext::load_points(const std::string& file, bool own) {
  if (!file_exists(file)) return true;
  bool replay = true;
  const std::string text = read_file(file);
  std::istringstream in(text);
  std::string kept;  // the readable lines
  bool damaged = !text.empty() && text.back() != '\n';
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    try {
      PointLine point = point_from_line(line);
      replay = replay && point.has_metrics;
      if (!own && finished_points_.count(point.key)) continue;
      finished_points_[point.key] = StoredPoint{std::move(point.row), std::move(point.metrics), own ? "" : line};
      if (!own) elsewhere_.insert(point.key);
      kept += line + "\n";
    } catch (const std::exception& e) {
      // A line torn by a crash is the only expected damage: that point is simply recomputed.
      damaged = true;
      log("warning: " + file + ":" + std::to_string(line_no) + " is unreadable (" + e.what() +
          "); that point will be recomputed");
    }
  }
  // Without the damaged lines, so that the next point is appended on a line of its own.
  if (damaged && own) write_file_atomic(file, kept);
  return replay;
}

void RunContext::reuse_points_from(const std::string& file) { load_points(file, false); }

void RunContext::share_points(PointShare* share, bool adopt) {
  share_ = share;
  adopt_ = adopt;
}

std::string RunContext::path(const std::string& file) const { return dir_ + "/" + file; }

void RunContext::log(const std::string& text) {
  const std::string line = valid_utf8(text);
  std::cout << line << std::endl;
  append_line(path("log.txt"), line);
}

Progress::LineSink RunContext::log_sink() {
  return [this](const std::string& line) { append_line(path("log.txt"), line); };
}

void RunContext::metric(const Row& row) {
  const std::string line = dump_json(to_json(row));
  append_line(path("metrics.jsonl"), line);
  if (point_metrics_ != nullptr) point_metrics_->push_back(line);
}

void RunContext::result(const std::string& key, const Value& value) { results_[key] = value; }

void RunContext::claim(const Claim& c) {
  claims_.push_back(c);
  if (helper_) return;
  std::ostringstream os;
  os << "claim " << c.id << ": " << (c.passed ? "PASS" : "FAIL") << "  measured " << c.measured << " "
     << comparator_symbol(c.comparator) << " " << c.threshold << "  (" << c.statement << ")";
  log(os.str());
}

void RunContext::plot(const LinePlot& p, const std::string& name) {
  if (helper_) return;
  try {
    save_plot_data(p, path(name));
    render_line_plot(p, path(name));
  } catch (const std::exception& e) {
    problems_.push_back("plot " + name + ": " + e.what());
    log("error: plot " + name + " not written: " + e.what());
  }
}

void RunContext::plot(const ImageGrid& g, const std::string& name) {
  if (helper_) return;
  try {
    render_image_grid(g, path(name));
  } catch (const std::exception& e) {
    problems_.push_back("plot " + name + ": " + e.what());
    log("error: plot " + name + " not written: " + e.what());
  }
}

Row RunContext::reuse(const std::string& key, StoredPoint& point, Progress* bar) {
  if (elsewhere_.erase(key) && adopt_) append_line(path(kPointsFile), point.line);
  // A shared run passes over its finished points once per pass; those lines would drown the log.
  if (share_ == nullptr) log("point " + key + ": already finished, reusing its stored results");
  for (const std::string& line : point.metrics) append_line(path("metrics.jsonl"), line);
  ++reused_points_;
  if (bar) bar->skip(1);
  return point.row;
}

Row RunContext::sweep_point(const std::string& key, const std::function<Row()>& compute, Progress* bar) {
  auto it = finished_points_.find(key);
  if (it != finished_points_.end()) return reuse(key, it->second, bar);
  if (share_ != nullptr) {
    std::optional<std::string> line;
    try {
      line = share_->finished(key);
      const bool computing = point_metrics_ != nullptr;  // inside another point: wait, it needs the row
      if (!line && !share_->claim(key)) {
        if (!computing) {
          pending_.insert(key);
          if (bar) bar->skip(1);
          return Row{{kPendingField, Value(key)}};
        }
        line = share_->wait(key);
      }
    } catch (const DataError&) {  // the point failed on another rank
      point_failed_ = true;
      throw;
    }
    if (line) {
      PointLine point = point_from_line(*line);
      elsewhere_.insert(key);
      StoredPoint& stored = finished_points_[key] = StoredPoint{std::move(point.row), std::move(point.metrics), *line};
      return reuse(key, stored, bar);
    }
  }
  StoredPoint point;
  {
    // The metric rows compute() logs are this point's; an outer point's again afterwards, or on a throw.
    struct Restore {
      std::vector<std::string>*& current;
      std::vector<std::string>* const outer;
      ~Restore() { current = outer; }
    } restore{point_metrics_, point_metrics_};
    point_metrics_ = &point.metrics;
    try {
      point.row = compute();
    } catch (const std::exception& e) {
      point_failed_ = true;
      if (share_ != nullptr) share_->publish_failure(key, e.what());
      throw;
    }
  }
  const std::string line = point_line({key, point.row, point.metrics});
  append_line(path(kPointsFile), line);
  if (share_ != nullptr) share_->publish(key, line);
  finished_points_[key] = point;
  if (bar) bar->advance(1);
  return point.row;
}

std::string PointShare::wait(const std::string& key) {
  for (int ms = 10;; ms = std::min(2 * ms, 500)) {
    if (std::optional<std::string> line = finished(key)) return *line;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

const char kPendingField[] = "pending_point";

const Value& row_value(const Row& row, const std::string& key) {
  if (row.size() == 1 && row.front().first == kPendingField)
    throw PointPending(std::get<std::string>(row.front().second));
  for (const auto& [k, v] : row)
    if (k == key) return v;
  throw SweepRowError("sweep row has no field '" + key + "'");
}

double row_number(const Row& row, const std::string& key) {
  const Value& v = row_value(row, key);
  if (auto d = std::get_if<double>(&v)) return *d;
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  throw SweepRowError("sweep row field '" + key + "' is a " + type_name(v) + ", not a number");
}

std::vector<double> column(const std::vector<Row>& rows, const std::string& key) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (const Row& r : rows) out.push_back(row_number(r, key));
  return out;
}

}  // namespace lmlab
