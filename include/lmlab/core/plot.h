// Plots through gnuplot: line plots (several series, legend, log axes, error bars or shaded bands,
// markers) and grids of grey images, each written as <stem>.svg and <stem>.png (DESIGN.md "Runs,
// results, claims"). The data travels inline in a temporary gnuplot script; both files are rendered under
// temporary names in the target directory and renamed only when gnuplot succeeded.
//
// Input rules:
//   * Points with a NaN/Inf x, y or error bar are skipped. On a log axis, points whose coordinate
//     is <= 0 are skipped too. The series' line breaks at a skipped point, and skipped points are
//     counted in a note appended to the title, so a plot never hides that data is missing. A plot
//     left with no drawable point is a DataError.
//   * A band's points with a NaN/Inf bound (or one <= 0 on a log y axis) are left out of the band.
//   * A plot without series, an empty series, x/y/yerr/lo/hi of different lengths, a negative
//     error bar, a band with lo > hi, a grid whose images are not [N,H,W] or whose labels do not
//     match N: UsageError.
//   * Image values are clamped to [0,1] (NaN -> 0, black), drawn as grey levels.
// The gnuplot executable is $LMLAB_GNUPLOT, default "gnuplot"; a missing one is an lmlab::Error
// naming the Debian package gnuplot-nox and scripts/install-deps.sh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace lmlab {

struct Series {
  std::string name;  // legend entry
  std::vector<double> x, y;
  std::vector<double> yerr;  // empty: no error bars; else one half-width per point
  std::vector<double> lo = {}, hi = {};  // empty: no band; else a shaded band from lo to hi at each point
};

// LinePlot("title", "x label", "y label").log_xy().with({series...}): linear axes unless asked.
struct LinePlot {
  LinePlot(std::string title, std::string xlabel, std::string ylabel)
      : title(std::move(title)), xlabel(std::move(xlabel)), ylabel(std::move(ylabel)) {}
  LinePlot& log_x() { logx = true; return *this; }
  LinePlot& log_y() { logy = true; return *this; }
  LinePlot& log_xy() { return log_x().log_y(); }
  LinePlot& with(std::vector<Series> s) { series = std::move(s); return *this; }

  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::vector<Series> series;
};

struct ImageGrid {
  std::string title;
  torch::Tensor images;             // [N,H,W] float, values in [0,1]
  int64_t cols = 8;                 // images per row
  std::vector<std::string> labels;  // empty, or one per image (drawn under it)
};

// Writes <path_stem>.svg and <path_stem>.png; the directory must exist.
void render_line_plot(const LinePlot& plot, const std::string& path_stem);
void render_image_grid(const ImageGrid& grid, const std::string& path_stem);

// True when the gnuplot executable ($LMLAB_GNUPLOT or "gnuplot") runs.
bool gnuplot_available();

}  // namespace lmlab
