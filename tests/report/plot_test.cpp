// Plots through gnuplot: SVG and PNG outputs, skipped points, input validation, and a clear error
// when gnuplot is missing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "core/files.h"
#include "lmlab/core/error.h"
#include "lmlab/core/plot.h"

using namespace lmlab;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("lmlab_plot_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Sets an environment variable for the lifetime of the object, then restores the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

bool is_svg(const std::string& text) { return text.rfind("<svg", 0) == 0 || text.rfind("<?xml", 0) == 0; }

bool is_png(const std::string& path) {
  return read_file(path).rfind(std::string("\x89PNG\r\n\x1a\n", 8), 0) == 0;
}

LinePlot two_series_plot() {
  LinePlot plot = LinePlot("loss vs width", "width", "loss").log_xy();
  plot.series.push_back({"train_loss", {8, 16, 32, 64}, {1.0, 0.5, 0.25, 0.125}, {0.1, 0.05, 0.02, 0.01}});
  plot.series.push_back({"it's test", {8, 16, 32, 64}, {2.0, 1.1, 0.6, 0.3}, {}});
  return plot;
}

}  // namespace

TEST(Plot, GnuplotIsInstalled) { EXPECT_TRUE(gnuplot_available()) << "install gnuplot-nox"; }

TEST(Plot, LinePlotWithLogAxesAndErrorBarsWritesSvgAndPng) {
  const std::string dir = temp_dir("line");
  render_line_plot(two_series_plot(), dir + "/loss");
  const std::string svg = read_file(dir + "/loss.svg");
  EXPECT_TRUE(is_svg(svg));
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("train_loss"), std::string::npos);  // noenhanced: '_' is not a subscript
  EXPECT_NE(svg.find("test"), std::string::npos);
  EXPECT_NE(svg.find("loss vs width"), std::string::npos);
  EXPECT_EQ(svg.find("points skipped"), std::string::npos);
  EXPECT_TRUE(is_png(dir + "/loss.png"));
  // Only the two outputs remain: no temporary files.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 2);
  fs::remove_all(dir);
}

TEST(Plot, BandIsAShadedAreaInItsLinesColour) {
  const std::string dir = temp_dir("band");
  LinePlot plot = LinePlot("band", "step", "loss").log_y();
  Series s{"median", {0, 1, 2, 3}, {1.0, 0.5, 0.3, 0.2}, {}};
  s.lo = {0.8, 0.4, -1.0, 0.1};  // -1: not drawable on the log axis, left out of the band
  s.hi = {1.2, 0.7, 0.4, 0.3};
  plot.series.push_back(s);
  render_line_plot(plot, dir + "/p");
  const std::string svg = read_file(dir + "/p.svg");
  EXPECT_TRUE(is_svg(svg));
  EXPECT_NE(svg.find("fill-opacity"), std::string::npos);  // the transparent band
  EXPECT_EQ(svg.find("points skipped"), std::string::npos);  // the line itself lost nothing
  EXPECT_TRUE(is_png(dir + "/p.png"));
  s.lo[1] = 0.9;  // above hi
  s.hi[1] = 0.6;
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({s}), dir + "/q"), UsageError);
  s.lo.pop_back();
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({s}), dir + "/q"), UsageError);
  fs::remove_all(dir);
}

TEST(Plot, NonFiniteAndNonPositiveLogPointsAreSkippedWithANote) {
  const std::string dir = temp_dir("skip");
  LinePlot plot = two_series_plot();
  plot.series[0].y[1] = std::nan("");
  plot.series[1].y[2] = INFINITY;
  plot.series[1].x[0] = -1.0;  // not drawable on the log x axis
  render_line_plot(plot, dir + "/p");
  const std::string svg = read_file(dir + "/p.svg");
  EXPECT_NE(svg.find("points skipped: 2 NaN/Inf, 1 &lt;= 0 on log axis"), std::string::npos);
  EXPECT_TRUE(is_png(dir + "/p.png"));
  fs::remove_all(dir);
}

TEST(Plot, NothingDrawableIsADataError) {
  const std::string dir = temp_dir("nothing");
  LinePlot plot = LinePlot("t", "x", "y").log_y().with({{"s", {1, 2}, {0, -1}, {}}});
  EXPECT_THROW(render_line_plot(plot, dir + "/p"), DataError);
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(Plot, BadLinePlotInputIsAUsageError) {
  const std::string dir = temp_dir("bad");
  const std::string stem = dir + "/p";
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y"), stem), UsageError);
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({{"s", {1, 2, 3}, {1, 2}, {}}}), stem),
               UsageError);
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({{"s", {1, 2}, {1, 2}, {0.1}}}), stem),
               UsageError);
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({{"s", {}, {}, {}}}), stem), UsageError);
  EXPECT_THROW(render_line_plot(LinePlot("t", "x", "y").with({{"s", {1}, {1}, {-0.5}}}), stem),
               UsageError);
  EXPECT_THROW(render_line_plot(two_series_plot(), dir + "/no/such/dir/p"), DataError);
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(Plot, ImageGridWithLabelsWritesSvgAndPng) {
  const std::string dir = temp_dir("grid");
  torch::manual_seed(0);
  ImageGrid grid{"recovered", torch::rand({10, 28, 28}), 4, {}};
  for (int i = 0; i < 10; ++i) grid.labels.push_back("img" + std::to_string(i));
  grid.images[3][0][0] = NAN;  // drawn black, not a crash
  render_image_grid(grid, dir + "/grid");
  const std::string svg = read_file(dir + "/grid.svg");
  EXPECT_TRUE(is_svg(svg));
  EXPECT_NE(svg.find("recovered"), std::string::npos);
  EXPECT_NE(svg.find("img9"), std::string::npos);
  EXPECT_TRUE(is_png(dir + "/grid.png"));
  fs::remove_all(dir);
}

TEST(Plot, BadImageGridIsAUsageError) {
  const std::string stem = temp_dir("badgrid") + "/g";
  EXPECT_THROW(render_image_grid(ImageGrid{"t", torch::rand({28, 28}), 8, {}}, stem), UsageError);
  EXPECT_THROW(render_image_grid(ImageGrid{"t", torch::rand({0, 28, 28}), 8, {}}, stem), UsageError);
  EXPECT_THROW(render_image_grid(ImageGrid{"t", torch::Tensor(), 8, {}}, stem), UsageError);
  EXPECT_THROW(render_image_grid(ImageGrid{"t", torch::rand({2, 4, 4}), 0, {}}, stem), UsageError);
  EXPECT_THROW(render_image_grid(ImageGrid{"t", torch::rand({2, 4, 4}), 8, {"only one"}}, stem), UsageError);
  fs::remove_all(fs::path(stem).parent_path());
}

TEST(Plot, MissingGnuplotNamesThePackage) {
  const std::string dir = temp_dir("missing");
  ScopedEnv env("LMLAB_GNUPLOT", "/nonexistent/gnuplot");
  EXPECT_FALSE(gnuplot_available());
  try {
    render_line_plot(two_series_plot(), dir + "/p");
    FAIL() << "expected lmlab::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot-nox"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scripts/install-deps.sh"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(Plot, GnuplotFailureQuotesItsMessagesAndLeavesNoFiles) {
  const std::string dir = temp_dir("fails");
  const std::string fake = dir + "/fake-gnuplot";
  write_file_atomic(fake, "#!/bin/sh\necho 'line 7: undefined variable: foo' >&2\nexit 1\n");
  fs::permissions(fake, fs::perms::owner_all);
  const std::string out = temp_dir("fails_out");
  ScopedEnv env("LMLAB_GNUPLOT", fake.c_str());
  try {
    render_line_plot(two_series_plot(), out + "/p");
    FAIL() << "expected lmlab::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exit code 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("undefined variable: foo"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(out));
  fs::remove_all(dir);
  fs::remove_all(out);
}
