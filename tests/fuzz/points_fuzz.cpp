// The lines of points.jsonl that --resume reads back (point_from_line, as RunContext reads them)
// and of run.json: a stored point written again reads back to the same line.
#include <sstream>

#include "core/json_value.h"
#include "fuzz_target.h"
#include "lmlab/core/error.h"

LMLAB_FUZZ_TARGET(points) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(lines, line);) {
    try {
      const lmlab::PointLine point = lmlab::point_from_line(line);
      const std::string written = lmlab::point_line(point);
      if (lmlab::point_line(lmlab::point_from_line(written)) != written)
        lmlab::fuzz::property_broken("a stored point does not round-trip");
    } catch (const lmlab::Json::exception&) {  // what RunContext catches as a damaged line
    } catch (const lmlab::Error&) {
    }
    try {  // as read_manifest reads run.json
      const lmlab::Json j = lmlab::Json::parse(line);
      (void)j.at("experiment").get<std::string>();
      (void)j.at("seed").get<uint64_t>();
      (void)j.at("quick").get<bool>();
      (void)j.value("threads", 0);
    } catch (const lmlab::Json::exception&) {
    }
  }
  return 0;
}
