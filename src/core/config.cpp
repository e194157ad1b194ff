// Typed experiment configuration (include/lmlab/core/config.h).
#include "lmlab/core/config.h"

#include <cstdint>
#include <sstream>

#include <toml++/toml.h>

#include "lmlab/core/error.h"

namespace lmlab {
namespace {

const char kQuickTable[] = "quick";

// Converts one TOML node to a Value; returns false for tables and mixed or nested arrays.
bool node_to_value(const toml::node& node, Value& out) {
  if (auto v = node.as_boolean()) return out = v->get(), true;
  if (auto v = node.as_integer()) return out = v->get(), true;
  if (auto v = node.as_floating_point()) return out = v->get(), true;
  if (auto v = node.as_string()) return out = v->get(), true;
  const toml::array* arr = node.as_array();
  if (!arr) return false;
  if (arr->empty()) return out = IntList{}, true;
  if (arr->is_homogeneous(toml::node_type::integer)) {
    IntList xs;
    for (const auto& e : *arr) xs.push_back(e.as_integer()->get());
    return out = xs, true;
  }
  if (arr->is_homogeneous(toml::node_type::string)) {
    StringList xs;
    for (const auto& e : *arr) xs.push_back(e.as_string()->get());
    return out = xs, true;
  }
  FloatList xs;  // floats, or ints and floats mixed
  for (const auto& e : *arr) {
    if (auto f = e.as_floating_point()) xs.push_back(f->get());
    else if (auto i = e.as_integer()) xs.push_back(static_cast<double>(i->get()));
    else return false;
  }
  return out = xs, true;
}

toml::table parse_toml(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ": invalid TOML at line " << e.source().begin.line << ": " << e.description();
    throw UsageError(os.str());
  }
}

// Flattens nested tables into dotted keys; `skip_quick` leaves out the top-level [quick] table.
void flatten(const toml::table& table, const std::string& prefix, const std::string& origin,
             std::map<std::string, Value>& out, bool skip_quick) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      if (!(skip_quick && prefix.empty() && k.str() == kQuickTable)) flatten(*sub, key, origin, out, false);
      continue;
    }
    Value v;
    LMLAB_CHECK(node_to_value(node, v), UsageError, origin, ": key '", key,
                "' must be a bool, int, float, string or a list of one of these");
    out[key] = v;
  }
}

// Coerces `v` to the type of `like` where that loses nothing (int -> float, [] -> any list).
bool coerce(const Value& like, Value& v) {
  if (like.index() == v.index()) return true;
  if (std::holds_alternative<double>(like) && std::holds_alternative<int64_t>(v)) {
    v = static_cast<double>(std::get<int64_t>(v));
    return true;
  }
  if (std::holds_alternative<FloatList>(like) && std::holds_alternative<IntList>(v)) {
    const auto& xs = std::get<IntList>(v);
    v = FloatList(xs.begin(), xs.end());
    return true;
  }
  if (std::holds_alternative<StringList>(like) && std::holds_alternative<IntList>(v) &&
      std::get<IntList>(v).empty()) {
    v = StringList{};
    return true;
  }
  // An empty default list ([]) has no element type and takes a list of any type.
  const auto* like_ints = std::get_if<IntList>(&like);
  const bool v_is_list = std::holds_alternative<FloatList>(v) || std::holds_alternative<StringList>(v);
  return like_ints != nullptr && like_ints->empty() && v_is_list;
}

template <typename T>
const T& typed(const std::map<std::string, Value>& values, const std::string& key) {
  auto it = values.find(key);
  LMLAB_ASSERT(it != values.end(), "config key '", key, "' is read but has no default");
  // An empty TOML array carries no element type; it reads as an empty list of any type.
  if constexpr (std::is_same_v<T, FloatList> || std::is_same_v<T, StringList>) {
    static const T empty{};
    const auto* ints = std::get_if<IntList>(&it->second);
    if (ints != nullptr && ints->empty()) return empty;
  }
  LMLAB_ASSERT(std::holds_alternative<T>(it->second), "config key '", key, "' is read as the wrong type (it is ",
               type_name(it->second), ")");
  return std::get<T>(it->second);
}

// Inserts a dotted key into nested TOML tables.
void insert_dotted(toml::table& root, const std::string& key, const Value& v) {
  toml::table* t = &root;
  std::string rest = key;
  for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
    std::string part = rest.substr(0, dot);
    if (!t->contains(part)) t->insert(part, toml::table{});
    t = (*t)[part].as_table();
  }
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, IntList> || std::is_same_v<T, FloatList> ||
                      std::is_same_v<T, StringList>) {
          toml::array arr;
          for (const auto& e : x) arr.push_back(e);
          t->insert_or_assign(rest, std::move(arr));
        } else {
          t->insert_or_assign(rest, x);
        }
      },
      v);
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF):
// config.toml is TOML, which holds only UTF-8, so a string that is not could not be read back.
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
      cp = cp << 6 | (byte(i + k) & 0x3F);
    }
    static const uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kLeast[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// The first string of `v` (a string or a string list) that is not valid UTF-8, if any.
const std::string* invalid_utf8(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return valid_utf8(*s) ? nullptr : s;
  if (const auto* list = std::get_if<StringList>(&v))
    for (const std::string& s : *list)
      if (!valid_utf8(s)) return &s;
  return nullptr;
}

}  // namespace

Config Config::from_toml(const std::string& text, const std::string& origin) {
  Config c;
  toml::table table = parse_toml(text, origin);
  flatten(table, "", origin, c.values_, /*skip_quick=*/true);
  if (const toml::table* quick = table[kQuickTable].as_table()) {
    flatten(*quick, "", origin + " [quick]", c.quick_, false);
    for (auto& [k, v] : c.quick_) c.validate(k, v, origin + " [quick]");
  }
  return c;
}

void Config::apply_quick() {
  for (const auto& [k, v] : quick_) values_[k] = v;
}

void Config::merge_toml(const std::string& text, const std::string& origin) {
  std::map<std::string, Value> overrides;
  toml::table table = parse_toml(text, origin);
  flatten(table, "", origin, overrides, false);
  for (auto& [k, v] : overrides) assign(k, v, origin);
}

void Config::set(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  LMLAB_CHECK(eq != std::string::npos && eq > 0, UsageError, "--set '", assignment,
              "' is not of the form key=value, e.g. --set train.lr=0.01");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  Value v = text;  // a bare word is a string
  try {
    toml::table t = toml::parse("v = " + text);
    Value parsed;
    if (node_to_value(*t.get("v"), parsed)) v = parsed;
  } catch (const toml::parse_error&) {
  }
  // A string key keeps the text as typed (--set name=123 is "123"), a quoted TOML string unquoted.
  auto it = values_.find(key);
  if (it != values_.end() && std::holds_alternative<std::string>(it->second) && !std::holds_alternative<std::string>(v))
    v = text;
  assign(key, v, "--set " + assignment);
}

void Config::validate(const std::string& key, Value& v, const std::string& origin) const {
  auto it = values_.find(key);
  LMLAB_CHECK(it != values_.end(), UsageError, origin, ": unknown config key '", key,
              "'. Valid keys:\n", describe_keys());
  LMLAB_CHECK(coerce(it->second, v), UsageError, origin, ": key '", key, "' takes a value of type ",
              type_name(it->second), ", got the ", type_name(v), " ", to_string(v),
              ". Valid keys:\n", describe_keys());
  LMLAB_CHECK(invalid_utf8(v) == nullptr, UsageError, origin, ": the value of '", key,
              "' is not valid UTF-8; config values are text that config.toml must hold");
}

void Config::assign(const std::string& key, Value v, const std::string& origin) {
  validate(key, v, origin);
  values_[key] = std::move(v);
}

const Value& Config::get(const std::string& key) const {
  auto it = values_.find(key);
  LMLAB_ASSERT(it != values_.end(), "config key '", key, "' is read but has no default");
  return it->second;
}
bool Config::get_bool(const std::string& key) const { return typed<bool>(values_, key); }
int64_t Config::get_int(const std::string& key) const { return typed<int64_t>(values_, key); }
double Config::get_float(const std::string& key) const { return typed<double>(values_, key); }
std::string Config::get_string(const std::string& key) const { return typed<std::string>(values_, key); }
IntList Config::get_int_list(const std::string& key) const { return typed<IntList>(values_, key); }
FloatList Config::get_float_list(const std::string& key) const { return typed<FloatList>(values_, key); }
StringList Config::get_string_list(const std::string& key) const { return typed<StringList>(values_, key); }

std::string Config::to_toml() const {
  toml::table root;
  for (const auto& [k, v] : values_) insert_dotted(root, k, v);
  std::ostringstream os;
  os << root << "\n";
  return os.str();
}

std::string Config::describe_keys() const {
  std::ostringstream os;
  for (const auto& [k, v] : values_) os << "  " << k << " (" << type_name(v) << ") = " << to_string(v) << "\n";
  return os.str();
}

}  // namespace lmlab
