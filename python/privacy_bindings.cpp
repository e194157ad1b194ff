// Python bindings of P6's accountant and DP-SGD and P7's attention inversion (lmlab/privacy.py).
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "lmlab/core/error.h"
#include "lmlab/privacy/attention_inversion.h"
#include "lmlab/privacy/dp_sgd.h"
#include "lmlab/privacy/per_example_grads.h"
#include "lmlab/privacy/rdp_accountant.h"

namespace lmlab_python {
namespace {

using namespace lmlab::privacy;

AccountantOptions accounting(const std::vector<double>& orders, const std::string& conversion, double tolerance) {
  LMLAB_CHECK(conversion == "balle2020" || conversion == "classic", lmlab::UsageError, "unknown conversion '",
              conversion, "'; use 'balle2020' or 'classic'");
  AccountantOptions o;
  if (!orders.empty()) o.orders(orders);
  return o.conversion(conversion == "classic" ? RdpConversion::Classic : RdpConversion::Balle2020)
      .epsilon_tolerance(tolerance);
}

InversionSolver solver_from_name(const std::string& name) {
  if (name == "gauss_newton") return InversionSolver::GaussNewton;
  LMLAB_CHECK(name == "gradient_descent", lmlab::UsageError, "unknown solver '", name,
              "'; use 'gauss_newton' or 'gradient_descent'");
  return InversionSolver::GradientDescent;
}

}  // namespace

void bind_privacy(py::module_& m) {
  m.def("privacy_default_orders", &default_rdp_orders);
  m.def("privacy_rdp", py::overload_cast<double, double, int64_t, const std::vector<double>&>(&subsampled_gaussian_rdp),
        py::arg("q"), py::arg("sigma"), py::arg("steps"), py::arg("orders"));
  m.def(
      "privacy_epsilon",
      [](double sigma, double q, int64_t steps, double delta, const std::vector<double>& orders, const std::string& conv) {
        const PrivacySpent s = dp_sgd_epsilon(sigma, q, steps, delta, accounting(orders, conv, 0.01));
        return std::make_pair(s.epsilon, s.order);
      },
      py::arg("sigma"), py::arg("q"), py::arg("steps"), py::arg("delta"), py::arg("orders"), py::arg("conversion"));
  m.def(
      "privacy_noise_multiplier",
      [](double eps, double q, int64_t steps, double delta, const std::vector<double>& orders, const std::string& conv,
         double tolerance) { return dp_sgd_noise_multiplier(eps, q, steps, delta, accounting(orders, conv, tolerance)); },
      py::arg("epsilon"), py::arg("q"), py::arg("steps"), py::arg("delta"), py::arg("orders"), py::arg("conversion"),
      py::arg("tolerance"));
  m.def(
      "privacy_per_example_gradients",
      [](const std::vector<std::string>& names, const std::vector<torch::Tensor>& params, const torch::Tensor& losses) {
        PerExampleGrads g = per_example_gradients(names, params, losses);
        return std::make_pair(g.names, g.grads);
      },
      NoGil(), py::arg("names"), py::arg("params"), py::arg("losses"));
  m.def(
      "privacy_clipped_sum",
      [](const std::vector<torch::Tensor>& grads, double max_grad_norm) {
        LMLAB_CHECK(!grads.empty() && grads.front().dim() >= 1, lmlab::UsageError,
                    "clipped_sum needs per-example gradients [B, ...]");
        PerExampleGrads g;
        g.grads = grads;
        g.batch = grads.front().size(0);
        for (const auto& t : grads)
          LMLAB_CHECK(t.dim() >= 1 && t.size(0) == g.batch, lmlab::UsageError, "per-example gradients of batch ",
                      g.batch, " and ", t.dim() >= 1 ? t.size(0) : 0, " mixed");
        const torch::Tensor norms = per_example_norms(g);
        return std::make_pair(clipped_sum(grads, norms, max_grad_norm), norms);
      },
      NoGil(), py::arg("grads"), py::arg("max_grad_norm"));

  py::class_<DPSGD, std::shared_ptr<DPSGD>>(m, "PrivacyDPSGD", py::module_local())
      .def(py::init([](std::vector<std::string> names, std::vector<torch::Tensor> params, std::function<void()> step,
                       double sigma, double c, double q, int64_t n, uint64_t seed) {
             return std::make_shared<DPSGD>(std::move(names), std::move(params), std::move(step),
                                            DPSGDOptions(sigma, c, q, n).seed(seed));
           }),
           py::arg("names"), py::arg("params"), py::arg("step"), py::arg("noise_multiplier"), py::arg("max_grad_norm"),
           py::arg("sample_rate"), py::arg("dataset_size"), py::arg("seed"))
      .def("sample_batch", &DPSGD::sample_batch)
      .def(
          "step",
          [](DPSGD& dp, const c10::optional<torch::Tensor>& losses) {
            DPStepStats s;
            {
              py::gil_scoped_release no_gil;  // the autograd engine runs without it; the optimizer's step takes it back
              s = dp.step(losses ? *losses : torch::Tensor());
            }
            py::dict d;
            d["batch"] = s.batch;
            d["mean_norm"] = s.mean_norm;
            d["clipped_fraction"] = s.clipped_fraction;
            return d;
          },
          py::arg("losses"))
      .def(
          "epsilon",
          [](const DPSGD& dp, double delta) {
            const PrivacySpent s = dp.spent(delta);
            return std::make_pair(s.epsilon, s.order);
          },
          py::arg("delta"))
      .def_property_readonly("steps", &DPSGD::steps);

  m.def("privacy_attention_map", &attention_map, py::arg("x"), py::arg("w"));
  m.def("privacy_inversion_loss", &inversion_loss, py::arg("x"), py::arg("w"), py::arg("b"), py::arg("lam"));
  m.def("privacy_inversion_gradient", &inversion_gradient, py::arg("x"), py::arg("w"), py::arg("b"), py::arg("lam"));
  m.def(
      "privacy_invert_attention",
      [](const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& x0, const std::string& solver, double lam,
         int64_t max_iterations, double tolerance) {
        const InversionResult r = invert_attention(
            w, b, x0,
            InversionOptions().solver(solver_from_name(solver)).lambda(lam).max_iterations(max_iterations).tolerance(tolerance));
        return py::make_tuple(r.x, r.losses, r.iterations, r.stalled);
      },
      py::arg("w"), py::arg("b"), py::arg("x0"), py::arg("solver"), py::arg("lam"), py::arg("max_iterations"),
      py::arg("tolerance"));
  m.def(
      "privacy_fit_w_isometry",
      [](const torch::Tensor& x_true, const torch::Tensor& x_hat, const torch::Tensor& w) {
        const SymmetryFit f = fit_w_isometry(x_true, x_hat, w);
        return py::make_tuple(f.m, f.residual, f.isometry_defect);
      },
      py::arg("x_true"), py::arg("x_hat"), py::arg("w"));
}

}  // namespace lmlab_python
