// Python bindings of the gradient-leakage metrics (P6; lmlab/privacy/image_metrics.h,
// text_metrics.h) as the submodule _lmlab.privacy_attacks; python/lmlab/_privacy_attacks.py wraps
// them and holds the attacks, written over any torch.nn.Module.
#include "bindings.h"
#include "lmlab/privacy/image_metrics.h"
#include "lmlab/privacy/text_metrics.h"

namespace lmlab_python {

void bind_privacy_attacks(py::module_& parent) {
  using namespace lmlab::privacy;
  auto m = parent.def_submodule("privacy_attacks", "P6 gradient-leakage metrics (C++)");
  m.def("image_mse", &image_mse, py::arg("images"), py::arg("reference"), NoGil());
  m.def("psnr", &psnr, py::arg("images"), py::arg("reference"), py::arg("data_range") = 1.0, NoGil());
  m.def(
      "ssim",
      [](const torch::Tensor& x, const torch::Tensor& y, int64_t window, double sigma, double k1, double k2,
         double data_range) {
        return ssim(x, y, SsimOptions().window(window).sigma(sigma).k1(k1).k2(k2).data_range(data_range));
      },
      py::arg("images"), py::arg("reference"), py::arg("window") = 11, py::arg("sigma") = 1.5, py::arg("k1") = 0.01,
      py::arg("k2") = 0.03, py::arg("data_range") = 1.0, NoGil());
  m.def("label_accuracy", &label_accuracy, py::arg("predicted"), py::arg("truth"), NoGil());
  m.def("token_accuracy", &token_accuracy, py::arg("recovered"), py::arg("original"), NoGil());
  m.def(
      "rouge_n",
      [](const torch::Tensor& c, const torch::Tensor& r, int64_t n) {
        const RougeScore s = rouge_n(c, r, n);
        return py::make_tuple(s.precision, s.recall, s.f1);
      },
      py::arg("candidate"), py::arg("reference"), py::arg("n"));
  m.def("mean_rouge_f1", &mean_rouge_f1, py::arg("candidate"), py::arg("reference"), py::arg("n"), NoGil());
}

}  // namespace lmlab_python
