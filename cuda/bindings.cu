// rnabert._cuda: the only file of cuda/ that knows Python. Kernels take device pointers and a stream.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cuda_check.h"
#include "device.h"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "rnabert GPU engine (CUDA)";
  py::register_exception<rnabert::CudaError>(m, "CudaError", PyExc_RuntimeError);

  m.def("device_count", &rnabert::cuda_device_count, "Usable CUDA devices (0 without a driver or GPU).");
  m.def("runtime_version", &rnabert::cuda_runtime_version, "CUDA runtime version compiled in (e.g. 13000).");
  m.def("driver_version", &rnabert::cuda_driver_version, "CUDA driver version (0 without a driver).");
  m.def(
      "devices",
      [] {
        py::list out;
        for (const auto& d : rnabert::cuda_devices()) {
          py::dict e;
          e["index"] = d.index;
          e["name"] = d.name;
          e["compute_capability"] = py::make_tuple(d.major, d.minor);
          e["multiprocessors"] = d.multiprocessors;
          e["total_memory"] = d.total_memory;
          out.append(e);
        }
        return out;
      },
      "Properties of each usable CUDA device.");
  m.def("self_test", &rnabert::cuda_self_test, py::arg("device") = 0,
        py::call_guard<py::gil_scoped_release>(), "Run a tiny kernel on a device and check its output.");
}
