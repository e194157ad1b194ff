// Plots through gnuplot (include/lmlab/core/plot.h).
//
// Each render writes one gnuplot script to a temporary file: the data as inline datablocks, the
// SVG output, then `replot` into the PNG. gnuplot runs as a child process (no shell) with its
// stdout and stderr captured, quoted in the error when it exits non-zero, and dies with lmlab, so a
// killed run leaves no gnuplot writing into its directory.
#include "lmlab/core/plot.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/files.h"
#include "core/plot_svg.h"
#include "lmlab/core/error.h"

namespace lmlab {
namespace fs = std::filesystem;

namespace {

std::string gnuplot_executable() {
  const char* env = std::getenv("LMLAB_GNUPLOT");
  return env && *env ? env : "gnuplot";
}

// A word for /bin/sh: single-quoted, with embedded quotes closed and escaped.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A gnuplot string literal: single-quoted ('' inside), control characters turned into spaces.
std::string gp_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + "'";
}

std::string number(double v, const char* format = "%.10g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The outputs of one render (.svg, and .png when asked) under temporary names in the target
// directory; whatever was not committed is removed on destruction.
class PendingOutputs {
 public:
  PendingOutputs(const std::string& stem, bool png) : stem_(stem) {
    const fs::path dir = fs::path(stem).parent_path();
    LMLAB_CHECK(dir.empty() || fs::is_directory(dir), DataError, "cannot write plot '", stem,
                ".svg': directory '", dir.string(), "' does not exist");
    static std::atomic<int> counter{0};
    suffix_ = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (png) exts_.push_back(".png");
  }
  ~PendingOutputs() {
    std::error_code ec;
    for (const char* ext : exts_) fs::remove(temp(ext), ec);
  }
  std::string temp(const std::string& ext) const { return stem_ + ext + suffix_; }
  // Renames the outputs into place once gnuplot has written them.
  void commit() {
    for (const char* ext : exts_) {
      std::error_code ec;
      LMLAB_CHECK(fs::file_size(temp(ext), ec) > 0 && !ec, Error, "gnuplot wrote no ", ext + 1,
                  " output for '", stem_, "'");
      fs::rename(temp(ext), stem_ + ext, ec);
      LMLAB_CHECK(!ec, DataError, "cannot write '", stem_, ext, "': ", ec.message());
    }
  }

 private:
  std::string stem_, suffix_;
  std::vector<const char*> exts_{".svg"};
};

// Runs gnuplot on `script`; Error with gnuplot's own messages if it fails.
void run_gnuplot(const std::string& script, const std::string& what) {
  std::string script_path = (fs::temp_directory_path() / "lmlab_plot_XXXXXX.gp").string();
  const int fd = ::mkstemps(script_path.data(), 3);
  LMLAB_CHECK(fd >= 0, DataError, "cannot create a temporary gnuplot script in ",
              fs::temp_directory_path().string());
  ::close(fd);
  const bool written = static_cast<bool>(std::ofstream(script_path) << script << std::flush);

  const std::string exe = gnuplot_executable();
  int out[2] = {-1, -1};
  const pid_t parent = ::getpid();
  const pid_t pid = written && ::pipe2(out, O_CLOEXEC) == 0 ? ::fork() : -1;
  if (pid == 0) {  // the child: async-signal-safe calls only
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // lmlab died before the line above took effect
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execlp(exe.c_str(), exe.c_str(), script_path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string output;
  int status = -1;
  if (out[1] >= 0) ::close(out[1]);
  if (pid > 0) {
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      output.append(buf, static_cast<size_t>(n));
    }
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (out[0] >= 0) ::close(out[0]);
  std::error_code ec;
  fs::remove(script_path, ec);
  LMLAB_CHECK(written, DataError, "cannot write the gnuplot script '", script_path, "'");
  LMLAB_CHECK(pid > 0, Error, "cannot start gnuplot ('", exe, "'): ", std::strerror(errno));

  const int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  LMLAB_CHECK(code != 126 && code != 127, Error, "cannot run gnuplot ('", exe, "') to draw ", what,
              ". Install the Debian package gnuplot-nox (scripts/install-deps.sh does), or point "
              "LMLAB_GNUPLOT at a gnuplot executable");
  if (output.size() > 2000) output = "..." + output.substr(output.size() - 2000);
  LMLAB_CHECK(code == 0, Error, "gnuplot ('", exe, "') failed with exit code ", code, " drawing ", what, ": ",
              output);
}

// Sets the terminals and outputs around `body` (datablocks, settings, one plot command).
void render(const std::string& body, int width, int height, const std::string& stem, bool png) {
  PendingOutputs out(stem, png);
  const std::string size = " size " + std::to_string(width) + "," + std::to_string(height);
  std::ostringstream s;
  s << "set terminal svg" << size << " noenhanced font 'sans,12' background '#ffffff'\n"
    << "set output " << gp_string(out.temp(".svg")) << "\n"
    << body << "set output\n";
  if (png)
    s << "set terminal pngcairo" << size << " noenhanced font 'sans,10' background '#ffffff'\n"
      << "set output " << gp_string(out.temp(".png")) << "\nreplot\nset output\n";
  run_gnuplot(s.str(), "'" + stem + "'");
  out.commit();
}

}  // namespace

bool gnuplot_available() {
  return std::system((shell_quote(gnuplot_executable()) + " --version >/dev/null 2>&1").c_str()) == 0;
}

namespace {

// How one series is drawn: its colour (gnuplot's line type number) and whether its line is dashed.
struct SeriesStyle {
  int colour;
  bool dashed;
};

// The gnuplot commands that draw `plot`, after checking its input (plot.h, "Input rules"). Series
// k takes styles[k], by default colour k + 1 and a solid line.
std::string line_plot_body(const LinePlot& plot, const std::vector<SeriesStyle>& styles = {}) {
  LMLAB_CHECK(!plot.series.empty(), UsageError, "plot '", plot.title, "' has no series");
  std::ostringstream data, cmd;
  int64_t nonfinite = 0, nonpositive = 0, drawn = 0;
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    const bool err = !s.yerr.empty(), band = !s.lo.empty() || !s.hi.empty();
    LMLAB_CHECK(!s.x.empty(), UsageError, "series '", s.name, "' of plot '", plot.title, "' is empty");
    LMLAB_CHECK(s.x.size() == s.y.size() && (!err || s.yerr.size() == s.y.size()) &&
                    (!band || (s.lo.size() == s.y.size() && s.hi.size() == s.y.size())),
                UsageError, "series '", s.name, "' of plot '", plot.title, "' has ", s.x.size(), " x, ", s.y.size(),
                " y, ", s.yerr.size(), " yerr, ", s.lo.size(), " lo and ", s.hi.size(),
                " hi values; x and y (and yerr, lo and hi, if given) must match");
    std::ostringstream band_rows;
    for (size_t i = 0; band && i < s.x.size(); ++i) {
      LMLAB_CHECK(!(s.lo[i] > s.hi[i]), UsageError, "series '", s.name, "' has a band with lo ", s.lo[i], " > hi ",
                  s.hi[i], " at x=", s.x[i]);
      const bool drawable = std::isfinite(s.x[i]) && std::isfinite(s.lo[i]) && std::isfinite(s.hi[i]) &&
                            !(plot.logx && s.x[i] <= 0) && !(plot.logy && s.lo[i] <= 0);
      if (drawable) band_rows << number(s.x[i]) << ' ' << number(s.lo[i]) << ' ' << number(s.hi[i]) << '\n';
    }
    std::ostringstream rows;
    int64_t n = 0;
    bool gap = true;  // no blank line before the first point
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double x = s.x[i], y = s.y[i], e = err ? s.yerr[i] : 0.0;
      LMLAB_CHECK(!(e < 0), UsageError, "series '", s.name, "' has a negative error bar ", e, " at x=", x);
      const bool bad = !std::isfinite(x) || !std::isfinite(y) || !std::isfinite(e);
      if (bad || (plot.logx && x <= 0) || (plot.logy && y <= 0)) {
        ++(bad ? nonfinite : nonpositive);
        if (!gap) rows << '\n';  // one blank line: the line breaks where the point is missing
        gap = true;
      } else {
        gap = false;
        rows << number(x) << ' ' << number(y) << (err ? " " + number(e) : "") << '\n';
        ++n;
      }
    }
    if (n == 0) continue;  // all its points were skipped: counted in the title note
    drawn += n;
    data << "$s" << k << " << EOD\n" << rows.str() << "EOD\n";
    const SeriesStyle look = k < styles.size() ? styles[k] : SeriesStyle{static_cast<int>(k) + 1, false};
    const std::string style = " lt " + std::to_string(look.colour) + (look.dashed ? " dt 2" : "");  // band too
    if (!band_rows.str().empty()) {
      data << "$b" << k << " << EOD\n" << band_rows.str() << "EOD\n";
      cmd << (cmd.tellp() > 0 ? ", " : "plot ") << "$b" << k
          << " using 1:2:3 with filledcurves fs transparent solid 0.2 noborder" << style << " notitle";
    }
    cmd << (cmd.tellp() > 0 ? ", " : "plot ") << "$s" << k
        << (err ? " using 1:2:3 with yerrorlines" : " using 1:2 with linespoints") << style
        << " lw 1.5 ps 0.8 title " << gp_string(s.name);
  }
  LMLAB_CHECK(drawn > 0, DataError, "plot '", plot.title,
              "' has no drawable point (every point is NaN/Inf or <= 0 on a log axis)");

  std::string title = plot.title, note;
  if (nonfinite) note += std::to_string(nonfinite) + " NaN/Inf";
  if (nonpositive) note += (note.empty() ? "" : ", ") + std::to_string(nonpositive) + " <= 0 on log axis";
  if (!note.empty()) title += (title.empty() ? "" : " ") + ("[points skipped: " + note + "]");

  std::ostringstream body;
  body << data.str() << "set title " << gp_string(title) << "\nset xlabel " << gp_string(plot.xlabel)
       << "\nset ylabel " << gp_string(plot.ylabel) << "\nset grid\nset key below\n"
       << (plot.logx ? "set logscale x\n" : "") << (plot.logy ? "set logscale y\n" : "")
       << cmd.str() << "\n";
  return body.str();
}

}  // namespace

void render_line_plot(const LinePlot& plot, const std::string& path_stem) {
  render(line_plot_body(plot), 800, 520, path_stem, true);
}

namespace {

// The SVG of the gnuplot commands `body`, drawn in a temporary directory that is then removed.
std::string svg_of(const std::string& body, int width, int height) {
  std::string dir = (fs::temp_directory_path() / "lmlab_svg_XXXXXX").string();
  LMLAB_CHECK(::mkdtemp(dir.data()) != nullptr, DataError, "cannot create a temporary directory in ",
              fs::temp_directory_path().string());
  const auto remove_dir = [&] { std::error_code ec; fs::remove_all(dir, ec); };
  try {
    render(body, width, height, dir + "/plot", false);
    const std::string svg = read_file(dir + "/plot.svg");
    remove_dir();
    return svg;
  } catch (...) {
    remove_dir();
    throw;
  }
}

}  // namespace

std::string line_plot_svg(const LinePlot& plot, int width, int height) {
  return svg_of(line_plot_body(plot), width, height);
}

std::string overlay_svg(const LinePlot& a, const LinePlot& b, int width, int height) {
  LinePlot both = b;
  both.series.clear();
  std::vector<SeriesStyle> styles;
  int next_colour = static_cast<int>(b.series.size()) + 1;  // for a's series that b lacks
  for (const Series& s : a.series) {  // first, so that b's lines are drawn over them
    const auto same = std::find_if(b.series.begin(), b.series.end(), [&](const Series& t) { return t.name == s.name; });
    both.series.push_back(s);
    both.series.back().name += " (A)";
    styles.push_back({same == b.series.end() ? next_colour++ : static_cast<int>(same - b.series.begin()) + 1, true});
  }
  for (size_t k = 0; k < b.series.size(); ++k) {
    both.series.push_back(b.series[k]);
    both.series.back().name += " (B)";
    styles.push_back({static_cast<int>(k) + 1, false});
  }
  return svg_of(line_plot_body(both, styles), width, height);
}

void render_image_grid(const ImageGrid& grid, const std::string& path_stem) {
  LMLAB_CHECK(grid.images.defined() && grid.images.dim() == 3, UsageError, "image grid '", grid.title,
              "' needs images of shape [N,H,W], got ",
              grid.images.defined() ? grid.images.sizes() : c10::IntArrayRef{});
  const int64_t n = grid.images.size(0), h = grid.images.size(1), w = grid.images.size(2);
  LMLAB_CHECK(n > 0 && h > 0 && w > 0, UsageError, "image grid '", grid.title, "' is empty: ",
              grid.images.sizes());
  LMLAB_CHECK(grid.cols > 0, UsageError, "image grid '", grid.title, "': cols must be positive, got ",
              grid.cols);
  LMLAB_CHECK(grid.labels.empty() || static_cast<int64_t>(grid.labels.size()) == n, UsageError,
              "image grid '", grid.title, "' has ", n, " images but ", grid.labels.size(), " labels");

  // One canvas: images separated by 1-pixel white gaps, with a white strip for labels under each
  // row. `scale` output pixels per image pixel make a cell about 80 pixels wide.
  const int64_t cols = std::min(grid.cols, n), rows = (n + cols - 1) / cols, gap = 1;
  const int64_t scale = std::max<int64_t>(1, std::llround(80.0 / std::max(h, w)));
  const int64_t strip = grid.labels.empty() ? 0 : (16 + scale - 1) / scale;
  const int64_t cell_h = h + strip + gap, cell_w = w + gap;
  const int64_t canvas_h = rows * cell_h + gap, canvas_w = cols * cell_w + gap;
  const torch::Tensor images =
      torch::nan_to_num(grid.images.detach().to(torch::kCPU, torch::kFloat), 0.0, 1.0, 0.0).clamp(0, 1);
  torch::Tensor canvas = torch::ones({canvas_h, canvas_w}, torch::kFloat);
  std::ostringstream labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = gap + (i / cols) * cell_h, left = gap + (i % cols) * cell_w;
    canvas.slice(0, top, top + h).slice(1, left, left + w).copy_(images[i]);
    if (!grid.labels.empty())
      labels << "set label " << gp_string(grid.labels[i]) << " at " << number(left + (w - 1) / 2.0)
             << "," << number(top + h - 0.5 + strip / 2.0) << " center front\n";
  }

  std::ostringstream body;
  body << "$img << EOD\n";
  const float* p = canvas.data_ptr<float>();
  for (int64_t r = 0; r < canvas_h; ++r) {
    for (int64_t c = 0; c < canvas_w; ++c) body << (c ? " " : "") << number(p[r * canvas_w + c], "%.4g");
    body << '\n';
  }
  const int64_t title_px = grid.title.empty() ? 0 : 28;
  const int64_t width = canvas_w * scale, height = canvas_h * scale + title_px;
  body << "EOD\nunset key\nunset tics\nunset border\nunset colorbox\nset palette grey\n"
       << "set cbrange [0:1]\nset title " << gp_string(grid.title) << "\n"
       << "set lmargin at screen 0\nset rmargin at screen 1\nset bmargin at screen 0\n"
       << "set tmargin at screen " << number(static_cast<double>(canvas_h * scale) / height) << "\n"
       << "set xrange [-0.5:" << canvas_w - 0.5 << "]\nset yrange [" << canvas_h - 0.5 << ":-0.5]\n"
       << labels.str() << "plot $img matrix with image\n";
  render(body.str(), static_cast<int>(width), static_cast<int>(height), path_stem, true);
  // Each image pixel stays a sharp square wherever the SVG is shown (as an <img>, a page's CSS
  // cannot reach inside it).
  std::string svg = read_file(path_stem + ".svg");
  for (size_t at = svg.find("<image "); at != std::string::npos; at = svg.find("<image ", at + 1))
    svg.insert(at + 7, "style='image-rendering:pixelated' ");
  write_file_atomic(path_stem + ".svg", svg);
}

}  // namespace lmlab
