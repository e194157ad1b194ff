// Private header (not part of the public API): Value <-> JSON, for summaries and sweep points.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmlab/core/value.h"

namespace lmlab {

// JSON objects keep insertion order, so files read in the order they were written.
using Json = nlohmann::ordered_json;

// Serialises `j`; bytes that are not valid UTF-8 (sampled text can hold any byte) become U+FFFD
// instead of failing the write.
std::string dump_json(const Json& j, int indent = -1);

Json to_json(const Value& v);
Json to_json(const Row& row);  // an object, keys in row order
// Inverse of to_json(Value): numbers keep int/float, an empty array becomes an IntList.
Value value_from_json(const Json& j);
Row row_from_json(const Json& j);

// One line of points.jsonl: a finished sweep point with the metric rows it logged (as JSON lines).
struct PointLine {
  std::string key;
  Row row;
  std::vector<std::string> metrics;
  bool has_metrics = true;  // false in runs written before points stored their metrics
};
std::string point_line(const PointLine& point);
// Inverse of point_line; throws (a Json::exception or a DataError) on a damaged line.
PointLine point_from_line(const std::string& line);

}  // namespace lmlab
