// rnabert._core: the only file of csrc/ that knows Python. Everything below it takes plain pointers.
//
// Arrays arrive as numpy arrays of the exact dtype, C-contiguous (python/rnabert/alignment/engine.py converts
// and validates); anything else raises ValueError naming the argument. Every long call releases the GIL.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "cpu_features.h"
#include "engine.h"
#include "host_bindings.h"
#include "similarity.h"

namespace py = pybind11;
using namespace rnabert;

namespace {

using namespace rnabert::host_bindings;

SeqSet make_set(const py::array& values, const py::array& offsets, const char* vname, const char* oname) {
  return host_bindings::make_set<SeqSet>(values, offsets, vname, oname);
}

EngineParams make_params(const py::dict& d) { return host_bindings::make_params<EngineParams>(d); }

PairsArgs<SeqSet> pairs_args(const py::array& values, const py::array& offsets, const py::array& pairs,
                             const py::object& tvalues, const py::object& toffsets) {
  return host_bindings::pairs_args<SeqSet>(values, offsets, pairs, tvalues, toffsets);
}

}  // namespace

// score_pairs and soft_align_scores take the same arguments and return one float per pair; only the
// kernel differs.
using PairScoreKernel = void (*)(const SeqSet&, const SeqSet&, const int64_t*, int64_t, const EngineParams&, int, int,
                                 float*);

auto pair_scores(PairScoreKernel kernel) {
  return [kernel](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
                  py::object toffsets, int threads, int simd) {
    const auto a = pairs_args(values, offsets, pairs, tvalues, toffsets);
    const EngineParams p = make_params(params);
    py::array_t<float> out(a.m);
    float* o = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      kernel(a.a, a.b, a.pairs, a.m, p, threads, simd, o);
    }
    return out;
  };
}

#define PAIR_ARGS                                                                                            \
  py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"),                                \
      py::arg("target_values") = py::none(), py::arg("target_offsets") = py::none(), py::arg("threads") = 0, \
      py::arg("simd") = -1

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

  m.def("score_pairs", pair_scores(&score_pairs), PAIR_ARGS,
        "Score-only alignment of pairs (i, j): float32 [m]. values must be unit rows.");
  m.def(
      "align_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues, py::object toffsets,
         int threads, int simd) {
        const auto a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const EngineParams p = make_params(params);
        Paths res;
        {
          py::gil_scoped_release nogil;
          res = align_pairs(a.a, a.b, a.pairs, a.m, p, threads, simd);
        }
        return paths_to_numpy(std::move(res));
      },
      PAIR_ARGS, "Alignment with traceback: (scores float32 [m], path_offsets int64 [m+1], path int32 [K, 2]).");
  m.def("soft_align_scores", pair_scores(&soft_scores), PAIR_ARGS, "Soft-alignment similarity of pairs: float32 [m].");
  m.def(
      "all_vs_all",
      [](py::array values, py::array offsets, py::dict params, py::object tvalues, py::object toffsets,
         const std::string& score, const std::string& output, int64_t top_k, float min_score, int threads, int simd,
         py::object progress) {
        const SeqSet a = make_set(values, offsets, "emb", "offsets");
        SeqSet b;
        const bool self = tvalues.is_none();
        if (!self) b = make_set(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets", "target_offsets");
        const EngineParams p = make_params(params);
        const AvaScore sk = parse_ava_score<AvaScore>(score);
        const AvaOutput ok = parse_ava_output<AvaOutput>(output);
        const int64_t nb = self ? a.n : b.n;
        py::array_t<float> dense(ok == AvaOutput::kDense ? std::vector<int64_t>{a.n, nb} : std::vector<int64_t>{0, 0});
        float* d = dense.mutable_data();
        const std::function<void(int64_t, int64_t)> cb = progress_callback(progress);
        AvaResult r;
        {
          py::gil_scoped_release nogil;
          r = all_vs_all(a, self ? nullptr : &b, p, sk, ok, top_k, min_score, threads, simd, d, cb);
        }
        if (ok == AvaOutput::kDense) return py::object(dense);
        return py::object(ava_to_numpy(r));
      },
      py::arg("values"), py::arg("offsets"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("score") = "dp", py::arg("output") = "dense",
      py::arg("top_k") = 0, py::arg("min_score") = 0.0f, py::arg("threads") = 0, py::arg("simd") = -1,
      py::arg("progress") = py::none(),
      "All pairs (i < j) of one set, or query x target, streamed in tiles: dense [n, n_t] float32, or "
      "(i, j, score) arrays for 'topk' and 'threshold'. progress(done, total) is called between tiles.");
  m.def(
      "align_score_matrices",
      [](py::list matrices, py::dict params, py::object reference, float fp_margin, float fn_margin, bool traceback,
         int threads, int simd) {
        const EngineParams p = make_params(params);
        const MatrixArgs x = matrix_args(matrices, reference, fp_margin, fn_margin);
        Paths res;
        {
          py::gil_scoped_release nogil;
          res = align_score_matrices(x.mats, x.rows, x.cols, x.refs, x.nref, p.scoring, fp_margin, fn_margin, traceback,
                                     threads, simd);
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("matrices"), py::arg("params"), py::arg("reference") = py::none(), py::arg("fp_margin") = 0.0f,
      py::arg("fn_margin") = 0.0f, py::arg("traceback") = true, py::arg("threads") = 0, py::arg("simd") = -1,
      "Alignment of explicit score matrices (used as-is), with optional margins against reference pairs.");
}
