// Names and renderings of config/result values (include/lmlab/core/value.h).
#include "lmlab/core/value.h"

#include <iomanip>
#include <sstream>

namespace lmlab {
namespace {

template <typename T>
void render(std::ostream& os, const T& x) {
  if constexpr (std::is_same_v<T, bool>) {
    os << (x ? "true" : "false");
  } else if constexpr (std::is_same_v<T, std::string>) {
    os << std::quoted(x);
  } else if constexpr (std::is_same_v<T, double>) {
    os << std::setprecision(10) << x;
  } else {
    os << x;
  }
}

}  // namespace

const char* type_name(const Value& v) {
  static const char* const names[] = {"bool",     "int",        "float",      "string",
                                      "int list", "float list", "string list"};
  return names[v.index()];
}

std::string to_string(const Value& v) {
  std::ostringstream os;
  std::visit(
      [&os](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, IntList> || std::is_same_v<T, FloatList> ||
                      std::is_same_v<T, StringList>) {
          os << '[';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i) os << ", ";
            render(os, x[i]);
          }
          os << ']';
        } else {
          render(os, x);
        }
      },
      v);
  return os.str();
}

}  // namespace lmlab
