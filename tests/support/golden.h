// Golden reference files (tests/golden/<name>.{json,bin}, written by tools/golden/*.py with
// models_golden_io.py's write_golden): named tensors with their config.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include <torch/torch.h>

#include "test_paths.h"

namespace test_support {

struct Golden {
  nlohmann::json config;
  std::map<std::string, torch::Tensor> tensors;
};

// Reads <name>.json (names, dtypes, shapes, byte offsets) and <name>.bin (little-endian data).
inline Golden read_golden(const std::string& name) {
  const std::string base = std::string(LMLAB_SOURCE_DIR) + "/tests/golden/" + name;
  std::ifstream manifest_in(base + ".json"), bin_in(base + ".bin", std::ios::binary);
  EXPECT_TRUE(manifest_in && bin_in) << "missing " << base << ".{json,bin}; run tools/golden/" << name << ".py";
  const auto manifest = nlohmann::json::parse(manifest_in);
  const std::string bytes((std::istreambuf_iterator<char>(bin_in)), std::istreambuf_iterator<char>());
  const std::map<std::string, torch::Dtype> dtypes{
      {"float32", torch::kFloat}, {"float64", torch::kDouble}, {"int64", torch::kLong}};
  Golden golden{manifest["config"], {}};
  for (const auto& entry : manifest["tensors"]) {
    const auto shape = entry["shape"].get<std::vector<int64_t>>();
    const auto dtype = dtypes.at(entry["dtype"].get<std::string>());
    const auto offset = entry["offset"].get<size_t>();
    auto t = torch::empty(shape, dtype);
    EXPECT_LE(offset + t.nbytes(), bytes.size()) << entry["name"];
    std::memcpy(t.data_ptr(), bytes.data() + offset, t.nbytes());
    golden.tensors[entry["name"].get<std::string>()] = t;
  }
  return golden;
}

}  // namespace test_support
