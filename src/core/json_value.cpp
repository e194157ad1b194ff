// Value <-> JSON (src/core/json_value.h).
#include "core/json_value.h"

#include <cmath>

#include "lmlab/core/error.h"

namespace lmlab {

std::string dump_json(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Json to_json(const Value& v) {
  return std::visit([](const auto& x) { return Json(x); }, v);
}

Json to_json(const Row& row) {
  Json o = Json::object();
  for (const auto& [k, v] : row) o[k] = to_json(v);
  return o;
}

Value value_from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return std::nan("");  // JSON has no NaN; it is written as null
    case Json::value_t::boolean: return j.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return j.get<int64_t>();
    case Json::value_t::number_float: return j.get<double>();
    case Json::value_t::string: return j.get<std::string>();
    case Json::value_t::array:
      if (j.empty() || j[0].is_number_integer()) return j.get<IntList>();
      if (j[0].is_number()) return j.get<FloatList>();
      if (j[0].is_string()) return j.get<StringList>();
      break;
    default: break;
  }
  throw DataError("unexpected JSON value " + j.dump() + " (expected a number, bool, string or list)");
}

Row row_from_json(const Json& j) {
  LMLAB_CHECK(j.is_object(), DataError, "expected a JSON object, got ", j.dump());
  Row row;
  for (auto it = j.begin(); it != j.end(); ++it) row.emplace_back(it.key(), value_from_json(it.value()));
  return row;
}

std::string point_line(const PointLine& point) {
  Json j = Json::object();
  j["key"] = point.key;
  j["row"] = to_json(point.row);
  j["metrics"] = Json::array();
  for (const std::string& m : point.metrics) j["metrics"].push_back(Json::parse(m));
  return dump_json(j);
}

PointLine point_from_line(const std::string& line) {
  const Json j = Json::parse(line);
  PointLine point{j.at("key").get<std::string>(), row_from_json(j.at("row")), {}, j.contains("metrics")};
  if (point.has_metrics) {
    const Json& metrics = j.at("metrics");
    LMLAB_CHECK(metrics.is_array(), DataError, "expected a JSON array of metric rows, got ", metrics.dump());
    for (const Json& m : metrics) point.metrics.push_back(dump_json(to_json(row_from_json(m))));
  }
  return point;
}

}  // namespace lmlab
