// A line plot's data beside its SVG (src/core/plot_data.h), as RunContext::plot saves it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/files.h"
#include "core/plot_data.h"
#include "lmlab/core/error.h"
#include "lmlab/core/run.h"
#include "support/usage_error.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {

class PlotData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lmlab_plot_data_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

LinePlot sample() {
  return LinePlot("loss <&>", "step", "loss")
      .log_y()
      .with({{"train", {1, 2, 3}, {0.5, NAN, 0.25}, {0.1, 0.1, 0.1}},
             {"band", {1, 2}, {1, 2}, {}, {0.5, 1}, {1.5, 3}}});
}

}  // namespace

TEST_F(PlotData, RoundTripsEverySeriesWithNaNAsNull) {
  save_plot_data(sample(), (dir_ / "loss").string());
  const std::string text = read_file((dir_ / "loss.plot.json").string());
  EXPECT_NE(text.find("null"), std::string::npos);
  const LinePlot back = load_plot_data((dir_ / "loss.plot.json").string());
  EXPECT_EQ(back.title, "loss <&>");
  EXPECT_EQ(back.xlabel, "step");
  EXPECT_FALSE(back.logx);
  EXPECT_TRUE(back.logy);
  ASSERT_EQ(back.series.size(), 2u);
  EXPECT_EQ(back.series[0].name, "train");
  EXPECT_EQ(back.series[0].x, (std::vector<double>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(back.series[0].y[0], 0.5);
  EXPECT_TRUE(std::isnan(back.series[0].y[1]));
  EXPECT_EQ(back.series[0].yerr.size(), 3u);
  EXPECT_TRUE(back.series[0].lo.empty());
  EXPECT_EQ(back.series[1].hi, (std::vector<double>{1.5, 3}));
}

TEST_F(PlotData, MalformedDataIsADataErrorNamingTheFile) {
  const std::string path = (dir_ / "bad.plot.json").string();
  write_file_atomic(path, "{\"title\": 1");
  EXPECT_MENTIONS(test_support::data_error([&] { load_plot_data(path); }), path + " is not valid JSON");
  write_file_atomic(path, "{\"title\": \"t\", \"xlabel\": \"x\", \"ylabel\": \"y\", \"logx\": false, \"logy\": false,"
                          " \"series\": [{\"name\": \"s\", \"x\": [1], \"y\": [\"one\"]}]}");
  EXPECT_MENTIONS(test_support::data_error([&] { load_plot_data(path); }), "\"y\" holds \"one\", not a number");
}

TEST_F(PlotData, RunContextSavesTheDataOfEveryLinePlot) {
  RunContext ctx(dir_.string(), Config::from_toml("a = 1\n", "t.toml"), 1, true);
  ctx.plot(sample(), "loss");
  ASSERT_TRUE(fs::exists(dir_ / "loss.plot.json"));
  EXPECT_EQ(load_plot_data((dir_ / "loss.plot.json").string()).series.size(), 2u);
}
