// Python bindings of the optimizer plug-ins (P4, P8) over a torch.optim optimizer (lmlab/optim.py).
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "lmlab/core/archive.h"
#include "lmlab/optim/delta_bar_delta.h"
#include "lmlab/optim/hypergradient.h"
#include "lmlab/optim/random_vector_accelerating.h"
#include "lmlab/optim/rdbd.h"
#include "lmlab/optim/reject_accelerating.h"

namespace lmlab_python {
namespace {

// A torch.optim optimizer seen as a torch::optim::Optimizer: the same parameter tensors, group by
// group; each group's lr read from and written to optimizer.param_groups[i]["lr"] (looked up each
// time, so a load_state_dict that replaces the group dicts is followed); step() calls the Python
// step(). Used only from Python calls, with the GIL held.
class PythonGroupOptions : public torch::optim::OptimizerCloneableOptions<PythonGroupOptions> {
 public:
  PythonGroupOptions(py::object optimizer, size_t group) : optimizer_(std::move(optimizer)), group_(group) {}
  double get_lr() const override { return group()["lr"].cast<double>(); }
  void set_lr(const double lr) override { group()["lr"] = lr; }

 private:
  py::dict group() const { return optimizer_.attr("param_groups").cast<py::list>()[group_].cast<py::dict>(); }
  py::object optimizer_;
  size_t group_;
};

std::vector<torch::optim::OptimizerParamGroup> python_groups(const py::object& optimizer) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  const py::list list = optimizer.attr("param_groups");
  for (size_t i = 0; i < list.size(); ++i)
    groups.emplace_back(list[i].cast<py::dict>()["params"].cast<std::vector<torch::Tensor>>(),
                        std::make_unique<PythonGroupOptions>(optimizer, i));
  return groups;
}

class PythonOptimizer : public torch::optim::Optimizer {
 public:
  explicit PythonOptimizer(const py::object& optimizer)
      : Optimizer(python_groups(optimizer), std::make_unique<PythonGroupOptions>(optimizer, 0)), optimizer_(optimizer) {}
  torch::Tensor step(LossClosure) override {
    optimizer_.attr("step")();
    return {};
  }

 private:
  py::object optimizer_;
};

template <class T>
py::bytes save_state(const T& object) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return py::bytes(out.str());
}

template <class T>
void load_state(T& object, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  lmlab::read_archive_bytes(archive, bytes, "optimizer state", "pass the bytes save() returned");
  object.load(archive);
}

}  // namespace

void bind_optim(py::module_& m) {
  using namespace lmlab::optim;
  py::class_<PythonOptimizer, std::shared_ptr<PythonOptimizer>>(m, "OptimPythonOptimizer", py::module_local())
      .def(py::init<const py::object&>(), py::arg("optimizer"));
  py::class_<StepWrapper, std::shared_ptr<StepWrapper>>(m, "OptimStepWrapper", py::module_local())
      .def("step", [](StepWrapper& w) { w.step(); })
      .def_property_readonly("steps", &StepWrapper::steps)
      .def("save", [](const StepWrapper& w) { return save_state(w); })
      .def("load", [](StepWrapper& w, const std::string& bytes) { load_state(w, bytes); }, py::arg("state"));
  py::class_<RejectAccelerating, StepWrapper, std::shared_ptr<RejectAccelerating>>(m, "OptimRejectAccelerating",
                                                                                    py::module_local())
      .def(py::init([](const std::shared_ptr<PythonOptimizer>& base) {
             return std::make_shared<RejectAccelerating>(*base);
           }),
           py::arg("base"), py::keep_alive<1, 2>())
      .def_property_readonly("rejected", &RejectAccelerating::rejected);
  py::class_<RandomVectorAccelerating, StepWrapper, std::shared_ptr<RandomVectorAccelerating>>(
      m, "OptimRandomVectorAccelerating", py::module_local())
      .def(py::init([](const std::shared_ptr<PythonOptimizer>& base, uint64_t seed, int64_t subspace_dim) {
             return std::make_shared<RandomVectorAccelerating>(
                 *base, RandomVectorAcceleratingOptions().seed(seed).subspace_dim(subspace_dim));
           }),
           py::arg("base"), py::arg("seed"), py::arg("subspace_dim"), py::keep_alive<1, 2>());
  py::class_<LrAdapter, std::shared_ptr<LrAdapter>>(m, "OptimLrAdapter", py::module_local())
      .def("step", [](LrAdapter& a) { a.step(); })
      .def("lrs", &LrAdapter::lrs)
      .def("save", [](const LrAdapter& a) { return save_state(a); })
      .def("load", [](LrAdapter& a, const std::string& bytes) { load_state(a, bytes); }, py::arg("state"));
  const auto dbd_options = [](double kappa, double phi, double theta, double lr_min, double lr_max) {
    return DeltaBarDeltaOptions().kappa(kappa).phi(phi).theta(theta).bounds(LrBounds().lr_min(lr_min).lr_max(lr_max));
  };
  py::class_<DeltaBarDelta, LrAdapter, std::shared_ptr<DeltaBarDelta>>(m, "OptimDeltaBarDelta", py::module_local())
      .def(py::init([dbd_options](const std::shared_ptr<PythonOptimizer>& base, StepWrapper* through, double kappa,
                                  double phi, double theta, double lr_min, double lr_max) {
             return std::make_shared<DeltaBarDelta>(*base, dbd_options(kappa, phi, theta, lr_min, lr_max), through);
           }),
           py::arg("base"), py::arg("through"), py::arg("kappa"), py::arg("phi"), py::arg("theta"), py::arg("lr_min"),
           py::arg("lr_max"), py::keep_alive<1, 2>(), py::keep_alive<1, 3>());
  py::class_<RDBD, LrAdapter, std::shared_ptr<RDBD>>(m, "OptimRDBD", py::module_local())
      .def(py::init([dbd_options](const std::shared_ptr<PythonOptimizer>& base, StepWrapper* through, double kappa,
                                  double phi, double theta, double lr_min, double lr_max) {
             return std::make_shared<RDBD>(*base, dbd_options(kappa, phi, theta, lr_min, lr_max), through);
           }),
           py::arg("base"), py::arg("through"), py::arg("kappa"), py::arg("phi"), py::arg("theta"), py::arg("lr_min"),
           py::arg("lr_max"), py::keep_alive<1, 2>(), py::keep_alive<1, 3>())
      .def_property_readonly("regrets", &RDBD::regrets);
  py::class_<Hypergradient, LrAdapter, std::shared_ptr<Hypergradient>>(m, "OptimHypergradient", py::module_local())
      .def(py::init([](const std::shared_ptr<PythonOptimizer>& base, StepWrapper* through, double beta, double lr_min,
                       double lr_max) {
             return std::make_shared<Hypergradient>(
                 *base, HypergradientOptions().beta(beta).bounds(LrBounds().lr_min(lr_min).lr_max(lr_max)), through);
           }),
           py::arg("base"), py::arg("through"), py::arg("beta"), py::arg("lr_min"), py::arg("lr_max"),
           py::keep_alive<1, 2>(), py::keep_alive<1, 3>());
}


}  // namespace lmlab_python
