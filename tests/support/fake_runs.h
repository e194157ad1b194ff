// Test support (not installed): run directories written as the runner writes them, without
// running anything, for tests of the report, the history and the comparison.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace lmlab::test_support {

// A summary.json of an ok run with no results and no claims (add them).
inline nlohmann::json fake_summary(const std::string& experiment, const std::string& paper,
                                   const std::string& started = "2024-05-01T10:00:00Z", double wall_s = 10.0) {
  return {{"experiment", experiment}, {"paper", paper},          {"version", "0.1.0"},   {"git_sha", "abc123"},
          {"seed", 1},                {"quick", true},           {"status", "ok"},       {"started", started},
          {"wall_s", wall_s},         {"config", {{"lr", 0.1}}}, {"results", nlohmann::json::object()},
          {"claims", nlohmann::json::array()}};
}

// One claim as summary.json holds it; `plot` "" for none.
inline nlohmann::json fake_claim(const std::string& id, double measured, const std::string& comparator,
                                 double threshold, bool passed, const std::string& plot = "") {
  return {{"id", id},         {"statement", "statement of " + id}, {"measured", measured}, {"comparator", comparator},
          {"threshold", threshold}, {"passed", passed},            {"plot", plot}};
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Writes root/<experiment>/<stamp>/summary.json and returns the run directory.
inline std::filesystem::path write_fake_run(const std::filesystem::path& root, const nlohmann::json& summary,
                                            const std::string& stamp = "20240501-100000-s1") {
  const std::filesystem::path dir = root / summary["experiment"].get<std::string>() / stamp;
  write_text(dir / "summary.json", summary.dump(2));
  return dir;
}

}  // namespace lmlab::test_support
