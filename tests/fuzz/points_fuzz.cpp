// The lines of points.jsonl and run.json that --resume reads back: each line parses as JSON, its
// "row" becomes a sweep row, and the row written again reads back to the same JSON.
#include <sstream>

#include "core/json_value.h"
#include "fuzz_target.h"
#include "lmlab/core/error.h"

LMLAB_FUZZ_TARGET(points) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  for (std::string line; std::getline(lines, line);) {
    try {
      const lmlab::Json j = lmlab::Json::parse(line);
      (void)j.at("key").get<std::string>();
      const lmlab::Row row = lmlab::row_from_json(j.at("row"));
      const std::string written = lmlab::dump_json(lmlab::to_json(row));
      const lmlab::Row back = lmlab::row_from_json(lmlab::Json::parse(written));
      if (lmlab::dump_json(lmlab::to_json(back)) != written) lmlab::fuzz::property_broken("a row does not round-trip");
      (void)j.value("seed", uint64_t{0});
      (void)j.value("threads", 0);
    } catch (const lmlab::Json::exception&) {  // what RunContext and read_manifest catch
    } catch (const lmlab::Error&) {
    }
  }
  return 0;
}
