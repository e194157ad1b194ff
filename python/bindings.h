// Private header of the Python extension: what python/lmlab_module.cpp and each
// python/<area>_bindings.cpp share. An area adds its file and one line to bindings.def.
#pragma once
#include <torch/python.h>

namespace lmlab_python {
namespace py = pybind11;

// Compute calls run without the GIL, so other Python threads go on meanwhile (arguments are
// converted before and results after, with the GIL held).
using NoGil = py::call_guard<py::gil_scoped_release>;

// void bind_<area>(py::module_&) for every line of bindings.def.
#define LMLAB_BINDING(area) void bind_##area(py::module_& m);
#include "bindings.def"
#undef LMLAB_BINDING
}  // namespace lmlab_python
