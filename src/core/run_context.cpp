// RunContext (include/lmlab/core/run.h).
#include "lmlab/core/run.h"

#include <iostream>
#include <sstream>

#include "core/files.h"
#include "core/json_value.h"
#include "core/plot_data.h"
#include "lmlab/core/error.h"

namespace lmlab {

namespace {
const char kPointsFile[] = "points.jsonl";
}

RunContext::RunContext(std::string dir, Config config, uint64_t seed, bool quick)
    : dir_(std::move(dir)), config_(std::move(config)), seed_(seed), quick_(quick) {
  const std::string points = path(kPointsFile);
  bool replay = true;  // every stored point has its metric rows
  if (file_exists(points)) {
    const std::string text = read_file(points);
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
        finished_points_[point.key] = StoredPoint{std::move(point.row), std::move(point.metrics)};
        kept += line + "\n";
      } catch (const std::exception& e) {
        // A line torn by a crash is the only expected damage: that point is simply recomputed.
        damaged = true;
        log("warning: " + points + ":" + std::to_string(line_no) + " is unreadable (" + e.what() +
            "); that point will be recomputed");
      }
    }
    // Without the damaged lines, so that the next point is appended on a line of its own.
    if (damaged) write_file_atomic(points, kept);
  }
  // The body runs again from its start, so metrics.jsonl is written again from its start: reused
  // points replay their stored metric rows, the rest log theirs as they run. (Points stored before
  // they kept their rows replay nothing: then metrics.jsonl is appended to, as it was then.)
  if (replay && file_exists(path("metrics.jsonl"))) write_file_atomic(path("metrics.jsonl"), "");
}

std::string RunContext::path(const std::string& file) const { return dir_ + "/" + file; }

void RunContext::log(const std::string& line) {
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
  std::ostringstream os;
  os << "claim " << c.id << ": " << (c.passed ? "PASS" : "FAIL") << "  measured " << c.measured << " "
     << comparator_symbol(c.comparator) << " " << c.threshold << "  (" << c.statement << ")";
  log(os.str());
}

void RunContext::plot(const LinePlot& p, const std::string& name) {
  try {
    save_plot_data(p, path(name));
    render_line_plot(p, path(name));
  } catch (const std::exception& e) {
    problems_.push_back("plot " + name + ": " + e.what());
    log("error: plot " + name + " not written: " + e.what());
  }
}

void RunContext::plot(const ImageGrid& g, const std::string& name) {
  try {
    render_image_grid(g, path(name));
  } catch (const std::exception& e) {
    problems_.push_back("plot " + name + ": " + e.what());
    log("error: plot " + name + " not written: " + e.what());
  }
}

Row RunContext::sweep_point(const std::string& key, const std::function<Row()>& compute, Progress* bar) {
  auto it = finished_points_.find(key);
  if (it != finished_points_.end()) {
    log("point " + key + ": already finished, reusing its stored results");
    for (const std::string& line : it->second.metrics) append_line(path("metrics.jsonl"), line);
    ++reused_points_;
    if (bar) bar->skip(1);
    return it->second.row;
  }
  StoredPoint point;
  std::vector<std::string>* const outer = point_metrics_;
  point_metrics_ = &point.metrics;
  try {
    point.row = compute();
  } catch (...) {
    point_metrics_ = outer;
    throw;
  }
  point_metrics_ = outer;
  append_line(path(kPointsFile), point_line({key, point.row, point.metrics}));
  finished_points_[key] = point;
  if (bar) bar->advance(1);
  return point.row;
}

const Value& row_value(const Row& row, const std::string& key) {
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
