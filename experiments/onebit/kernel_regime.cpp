// onebit.kernel_regime: as width m grows, a 1-bit two-layer net trains in the kernel (NTK)
// regime (P1, arXiv 2411.01663: "the dynamics of model training inevitably align with kernel
// behavior as the network width grows ... convergence to an arbitrarily small loss"), and its loss
// approaches its full-precision twin's.
//
// Model and twin: lmlab/onebit/two_layer.h (with the output bias by default: without one the 1-bit
// net cannot fit a target's constant part, two_layer.h); training and measurements:
// two_layer_twins.h. Sweep: targets x widths x seeds, each seed its own teacher or data subset; per
// (target, width) the median over seeds.
//
// Claims, per target, thresholds fixed from theory before any run: in the lazy regime (Jacot et
// al. 2018; Du et al. 2019) each hidden weight moves O(1/sqrt(m)) while ||W_0|| ~ sqrt(m d), so
// the relative movement, the fraction of flipped signs (weights within O(1/sqrt(m)) of zero) and
// the relative drift of the NTK all scale as m^(-1/2). We require at least half that rate, a
// log-log slope < -0.25, which leaves room for finite-width corrections over a few octaves. The
// paper's convergence statement becomes: the final training loss falls with width (slope < 0), and
// so does the ratio of the 1-bit net's training loss to its twin's (slope < 0).
#include <map>

#include "registry.h"
#include "common/stats.h"
#include "two_layer_twins.h"

namespace lmlab {
namespace {

using Labels = std::initializer_list<std::pair<const char*, const char*>>;

void run(RunContext& ctx) {
  const Config& cfg = ctx.config();
  const IntList widths = cfg.get_int_list("widths");
  const std::vector<double> x(widths.begin(), widths.end());
  for (const std::string& target : cfg.get_string_list("targets")) {
    const auto rows = onebit::twin_sweep(ctx, target);
    std::map<std::string, std::vector<double>> median;  // "bit_movement" -> per width
    for (const char* p : {"bit_", "fp_"})
      for (const char* m : {"movement", "flips", "ntk_drift", "train_loss", "ntk_min_eig", "mean_f"})
        median[std::string(p) + m] = onebit::median_per_width(rows, std::string(p) + m);
    for (const char* m : {"train_loss_ratio", "target_mean"}) median[m] = onebit::median_per_width(rows, m);
    for (const auto& [name, values] : median) ctx.result(target + "." + name, FloatList(values));

    std::vector<Series> dynamics, loss;
    for (const char* p : {"bit", "fp"}) {
      const std::string who = std::string(p) == "bit" ? "1-bit " : "full precision ";
      for (const auto& [m, label] : Labels{{"movement", "||W-W0||/||W0||"}, {"flips", "sign flips"},
                                           {"ntk_drift", "NTK drift"}})
        dynamics.push_back({who + label, x, median[std::string(p) + "_" + m], {}});
      loss.push_back({who + "train", x, median[std::string(p) + "_train_loss"], {}});
    }
    ctx.plot(LinePlot("Kernel regime (" + target + "): median over seeds", "width m", "relative change").log_xy().with(
                      dynamics),
             target + "_dynamics");
    ctx.plot(LinePlot("Final training loss (" + target + ")", "width m", "loss / (mean y^2 / 2)").log_xy().with(loss),
             target + "_loss");
    ctx.plot(LinePlot("Mean output E_x f (" + target + "), median over seeds", "width m", "E_x f").log_x().with(
                      {{"1-bit", x, median["bit_mean_f"], {}},
                       {"full precision", x, median["fp_mean_f"], {}},
                       {"target E y", x, median["target_mean"], {}}}),
             target + "_mean_f");
    for (const auto& [m, what] : Labels{{"movement", "relative weight movement"}, {"flips", "fraction of sign flips"},
                                        {"ntk_drift", "relative NTK drift"}}) {
      const double slope = loglog_slope(x, median[std::string("bit_") + m]);
      ctx.result(target + ".bit_" + m + "_slope", slope);
      ctx.claim(make_claim(target + "_" + m + "_falls",
                           std::string("1-bit net (") + target + "): " + what +
                               " falls with width at least as m^-0.25 (theory: m^-0.5); log-log slope < -0.25",
                           slope, Comparator::Less, -0.25).shown_in(target + "_dynamics"));
    }
    const double loss_slope = loglog_slope(x, median["bit_train_loss"]);
    ctx.result(target + ".bit_train_loss_slope", loss_slope);
    ctx.claim(make_claim(target + "_train_loss_falls",
                         "1-bit net (" + target + "): final training loss falls with width; log-log slope < 0",
                         loss_slope, Comparator::Less, 0.0).shown_in(target + "_loss"));
    const double ratio_slope = loglog_slope(x, median["train_loss_ratio"]);
    ctx.result(target + ".train_loss_ratio_slope", ratio_slope);
    ctx.claim(make_claim(target + "_loss_ratio_falls",
                         "1-bit / full-precision training loss (" + target +
                             ") falls with width; log-log slope of the median ratio < 0",
                         ratio_slope, Comparator::Less, 0.0).shown_in(target + "_loss"));
  }
  ctx.result("widths", IntList(widths));
}

}  // namespace

LMLAB_DEFINE_EXPERIMENT(onebit, kernel_regime, run,
                        ExperimentInfo("P1 1-bit scaling (arXiv 2411.01663)",
                                       "1-bit two-layer nets of growing width train in the kernel regime")
                            .sweep().config_of("onebit.two_layer_twins")
                            .quick_seconds(25))

}  // namespace lmlab
