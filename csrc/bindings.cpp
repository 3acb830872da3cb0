// rnabert._core: the only file of csrc/ that knows Python. Everything below it takes plain pointers.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cpu_features.h"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "rnabert CPU engine (C++17): fused embedding similarity and affine-gap dynamic programming";
  m.attr("__version__") = RNABERT_VERSION;

  m.def(
      "cpu_features",
      [] {
        const auto& f = rnabert::cpu_features();
        py::dict d;
        d["avx2"] = f.avx2;
        d["fma"] = f.fma;
        d["avx512f"] = f.avx512f;
        d["avx512bw"] = f.avx512bw;
        d["avx512vl"] = f.avx512vl;
        d["avx512dq"] = f.avx512dq;
        d["avx512_bf16"] = f.avx512_bf16;
        d["avx512_vnni"] = f.avx512_vnni;
        return d;
      },
      "Instruction sets this CPU and OS can run.");
  m.def("simd_level", &rnabert::best_simd_level,
        "The SIMD level the engine uses here: the widest compiled in and supported ('avx512', 'avx2', 'scalar'), "
        "lowered by the RNABERT_SIMD environment variable.");
}
