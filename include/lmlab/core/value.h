// A typed scalar or list: the values of configs, results and metrics rows.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lmlab {

using IntList = std::vector<int64_t>;
using FloatList = std::vector<double>;
using StringList = std::vector<std::string>;

// The types a config key may hold; lists are homogeneous.
using Value = std::variant<bool, int64_t, double, std::string, IntList, FloatList, StringList>;

// One metrics line or one sweep point's results, in insertion order.
using Row = std::vector<std::pair<std::string, Value>>;

// "bool", "int", "float", "string", "int list", "float list", "string list".
const char* type_name(const Value& v);

// A short human-readable rendering: 3, 0.001, true, "adam", [1, 2, 3].
std::string to_string(const Value& v);

}  // namespace lmlab
