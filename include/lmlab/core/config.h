// An experiment's configuration: typed keys with defaults from the experiment's TOML file, then
// overrides from a user TOML file and `--set key=value` (DESIGN.md "Runs, results, claims").
//
// Nested TOML tables flatten to dotted keys ("train.lr"). The defaults fix each key's type; an
// override of an unknown key or of another type is a UsageError that lists the valid keys and
// types (an int is accepted where a float is expected). A top-level table [quick] in the defaults
// holds the overrides that --quick applies; it is not itself a key.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lmlab/core/value.h"

namespace lmlab {

class Config {
 public:
  // Defaults from TOML text; `origin` names the source in error messages.
  static Config from_toml(const std::string& text, const std::string& origin);

  // Applies the [quick] table of the defaults.
  void apply_quick();
  // Overrides every key of a TOML document; unknown keys and wrong types are UsageErrors.
  void merge_toml(const std::string& text, const std::string& origin);
  // Overrides one key from "key=value"; the value is read as TOML ("0.1", "true", "[1, 2]",
  // "adam" or "\"adam\"") and must match the key's type.
  void set(const std::string& assignment);

  bool has(const std::string& key) const { return values_.count(key) > 0; }
  const Value& get(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  IntList get_int_list(const std::string& key) const;
  FloatList get_float_list(const std::string& key) const;
  StringList get_string_list(const std::string& key) const;

  const std::map<std::string, Value>& values() const { return values_; }
  // The resolved config as a TOML document (nested tables for dotted keys).
  std::string to_toml() const;
  // One line per key: "  train.lr (float) = 0.001".
  std::string describe_keys() const;

 private:
  // Checks that `key` exists and coerces `v` to its type; UsageError otherwise.
  void validate(const std::string& key, Value& v, const std::string& origin) const;
  void assign(const std::string& key, Value v, const std::string& origin);
  std::map<std::string, Value> values_;
  std::map<std::string, Value> quick_;
};

}  // namespace lmlab
