// Python bindings of the copyright area (P10; lmlab/copyright.py): the protected loss, protected
// softmax regression with its solvers and synthetic data, and the audit's substring measure.
#include <string>

#include "bindings.h"
#include "lmlab/copyright/extraction_audit.h"
#include "lmlab/copyright/protected_loss.h"
#include "lmlab/copyright/softmax_data.h"
#include "lmlab/copyright/softmax_regression.h"
#include "lmlab/copyright/softmax_solvers.h"
#include "lmlab/core/error.h"

namespace lmlab_python {
namespace {

using namespace lmlab::copyright;

py::dict evaluation_dict(const ObjectiveEvaluation& e) {
  py::dict d;
  d["value"] = e.value, d["l_cp"] = e.l_cp, d["l_rest"] = e.l_rest, d["tau"] = e.tau(), d["floored"] = e.floored;
  if (e.grad.defined()) d["grad"] = e.grad;
  if (e.hessian.defined()) d["hessian"] = e.hessian;
  return d;
}

py::dict solve_dict(const SolveResult& r) {
  py::dict d = evaluation_dict(r.final);
  d["x"] = r.x, d["iterations"] = r.iterations, d["evaluations"] = r.evaluations, d["converged"] = r.converged;
  d["stalled"] = r.stalled, d["values"] = r.values, d["gradient_norms"] = r.gradient_norms;
  return d;
}

}  // namespace

void bind_copyright(py::module_& m) {
  m.def(
      "copyright_protected_loss",
      [](const torch::Tensor& logits, const torch::Tensor& targets, const torch::Tensor& mask, double gamma,
         double ce_floor) {
        const auto l = protected_loss(logits, targets, mask, ProtectedLossOptions().gamma(gamma).ce_floor(ce_floor));
        py::dict stats;
        stats["ce_all"] = l.ce_all, stats["ce_cp"] = l.ce_cp, stats["tokens"] = l.tokens;
        stats["copyrighted_tokens"] = l.copyrighted_tokens, stats["has_copyrighted"] = l.has_copyrighted;
        stats["floored"] = l.floored;
        return py::make_tuple(l.loss, stats);
      },
      py::arg("logits"), py::arg("targets"), py::arg("copyrighted"), py::arg("gamma"), py::arg("ce_floor"));

  py::class_<SoftmaxRegression>(m, "CopyrightSoftmaxRegression", py::module_local())
      .def(py::init([](const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& copyrighted, double gamma,
                       double lam, double loss_floor, bool fit_all) {
             return SoftmaxRegression({a, b, copyrighted}, SoftmaxRegressionOptions()
                                                               .gamma(gamma)
                                                               .lambda(lam)
                                                               .loss_floor(loss_floor)
                                                               .fit_all(fit_all));
           }),
           py::arg("a"), py::arg("b"), py::arg("copyrighted"), py::arg("gamma"), py::arg("lam"), py::arg("loss_floor"),
           py::arg("fit_all"))
      .def("evaluate", [](const SoftmaxRegression& f, const torch::Tensor& x, int order) {
             return evaluation_dict(f.evaluate(x, order));
           }, py::arg("x"), py::arg("order"))
      .def("solve",
           [](const SoftmaxRegression& f, const torch::Tensor& x0, const std::string& method, int64_t max_iterations,
              double tolerance, double initial_step) {
             const auto o =
                 SolverOptions().max_iterations(max_iterations).tolerance(tolerance).initial_step(initial_step);
             LMLAB_CHECK(method == "newton" || method == "gd", lmlab::UsageError, "method must be 'newton' or 'gd'; got '",
                         method, "'");
             SolveResult r;
             {
               py::gil_scoped_release release;
               r = method == "newton" ? newton_solve(f, x0, o) : gradient_descent_solve(f, x0, o);
             }
             return solve_dict(r);
           },
           py::arg("x0"), py::arg("method"), py::arg("max_iterations"), py::arg("tolerance"), py::arg("initial_step"))
      .def_property_readonly("dim", &SoftmaxRegression::dim);

  m.def(
      "copyright_make_softmax_data",
      [](int64_t tasks, int64_t copyrighted, int64_t rows, int64_t dim, double scale, double noise, uint64_t seed) {
        const auto d = make_softmax_data(
            SoftmaxDataOptions().tasks(tasks).copyrighted(copyrighted).rows(rows).dim(dim).scale(scale).noise(noise), seed);
        return py::make_tuple(d.a, d.b, d.copyrighted);
      },
      py::arg("tasks"), py::arg("copyrighted"), py::arg("rows"), py::arg("dim"), py::arg("scale"), py::arg("noise"),
      py::arg("seed"));

  m.def("copyright_longest_common_substring",
        [](const py::bytes& a, const py::bytes& b) { return longest_common_substring(a, b); }, py::arg("a"), py::arg("b"));
}

}  // namespace lmlab_python
