// Line plot data as JSON (src/core/plot_data.h).
#include "core/plot_data.h"

#include <cmath>

#include "core/files.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace {

std::vector<double> numbers(const Json& j, const char* key) {
  const Json& a = j.contains(key) ? j.at(key) : Json::array();
  LMLAB_CHECK(a.is_array(), DataError, "\"", key, "\" is not a list");
  std::vector<double> out;
  for (const Json& v : a) {
    LMLAB_CHECK(v.is_number() || v.is_null(), DataError, "\"", key, "\" holds ", v.dump(), ", not a number");
    out.push_back(v.is_null() ? std::nan("") : v.get<double>());
  }
  return out;
}

}  // namespace

Json line_plot_json(const LinePlot& plot) {
  Json series = Json::array();
  for (const Series& s : plot.series) {
    Json j{{"name", s.name}, {"x", s.x}, {"y", s.y}};
    if (!s.yerr.empty()) j["yerr"] = s.yerr;
    if (!s.lo.empty()) j["lo"] = s.lo;
    if (!s.hi.empty()) j["hi"] = s.hi;
    series.push_back(std::move(j));
  }
  return Json{{"title", plot.title}, {"xlabel", plot.xlabel}, {"ylabel", plot.ylabel},
              {"logx", plot.logx},   {"logy", plot.logy},     {"series", series}};
}

LinePlot line_plot_from_json(const Json& j) {
  try {
    LinePlot plot(j.at("title").get<std::string>(), j.at("xlabel").get<std::string>(),
                  j.at("ylabel").get<std::string>());
    plot.logx = j.at("logx").get<bool>();
    plot.logy = j.at("logy").get<bool>();
    for (const Json& s : j.at("series"))
      plot.series.push_back({s.at("name").get<std::string>(), numbers(s, "x"), numbers(s, "y"), numbers(s, "yerr"),
                             numbers(s, "lo"), numbers(s, "hi")});
    return plot;
  } catch (const Json::exception& e) {
    throw DataError(std::string("not a plot's data: ") + e.what());
  }
}

void save_plot_data(const LinePlot& plot, const std::string& path_stem) {
  write_file_atomic(path_stem + ".plot.json", dump_json(line_plot_json(plot)) + "\n");
}

LinePlot load_plot_data(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return line_plot_from_json(Json::parse(text));
  } catch (const Json::exception& e) {
    throw DataError(path + " is not valid JSON (" + e.what() + "); rerun the experiment to write it again");
  } catch (const DataError& e) {
    throw DataError(path + ": " + e.what() + "; rerun the experiment to write it again");
  }
}

}  // namespace lmlab
