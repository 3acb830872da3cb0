// rnabert._core: the only file of csrc/ that knows Python. Everything below it takes plain pointers.
//
// Arrays arrive as numpy arrays of the exact dtype, C-contiguous (python/rnabert/align/engine.py converts
// and validates); anything else raises ValueError naming the argument. Every long call releases the GIL.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "cpu_features.h"
#include "engine.h"
#include "similarity.h"

namespace py = pybind11;
using namespace rnabert;

namespace {

template <class T>
const T* checked(const py::array& arr, const char* name, int ndim, int64_t last_dim = -1) {
  const py::dtype want = py::dtype::of<T>();
  if (arr.dtype().kind() != want.kind() || arr.dtype().itemsize() != want.itemsize())
    throw std::invalid_argument(std::string(name) + ": expected dtype " + std::string(py::str(want)) + ", got " +
                                std::string(py::str(arr.dtype())));
  if (arr.ndim() != ndim)
    throw std::invalid_argument(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                                std::to_string(arr.ndim()) + "-D");
  if (last_dim >= 0 && arr.shape(ndim - 1) != last_dim)
    throw std::invalid_argument(std::string(name) + ": expected last dimension " + std::to_string(last_dim) +
                                ", got " + std::to_string(arr.shape(ndim - 1)));
  if (!(arr.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + ": must be C-contiguous");
  return static_cast<const T*>(arr.data());
}

SeqSet make_set(const py::array& values, const py::array& offsets, const char* vname, const char* oname) {
  SeqSet s;
  s.values = checked<float>(values, vname, 2);
  s.offsets = checked<int64_t>(offsets, oname, 1);
  if (offsets.shape(0) < 2) throw std::invalid_argument(std::string(oname) + ": needs at least 2 entries (n+1)");
  s.n = offsets.shape(0) - 1;
  s.dim = values.shape(1);
  if (s.offsets[s.n] != values.shape(0))
    throw std::invalid_argument(std::string(oname) + ": last offset " + std::to_string(s.offsets[s.n]) +
                                " != number of rows " + std::to_string(values.shape(0)));
  return s;
}

dp::Scoring make_scoring(const std::string& mode, const std::string& free_ends, float gap_open, float gap_extend) {
  dp::Scoring sc;
  if (mode == "global") sc.mode = dp::kGlobal;
  else if (mode == "local") sc.mode = dp::kLocal;
  else if (mode == "semiglobal") sc.mode = dp::kSemiglobal;
  else throw std::invalid_argument("mode: expected 'global', 'local' or 'semiglobal', got '" + mode + "'");
  if (free_ends == "both") sc.free_ends = dp::kFreeBoth;
  else if (free_ends == "query") sc.free_ends = dp::kFreeQuery;
  else throw std::invalid_argument("free_ends: expected 'both' or 'query', got '" + free_ends + "'");
  if (!(gap_open >= 0.0f) || !std::isfinite(gap_open)) throw std::invalid_argument("gap_open: must be finite and >= 0");
  if (!(gap_extend >= 0.0f) || !std::isfinite(gap_extend))
    throw std::invalid_argument("gap_extend: must be finite and >= 0");
  sc.gap_open = gap_open;
  sc.gap_extend = gap_extend;
  return sc;
}

EngineParams make_params(const py::dict& d) {
  EngineParams p;
  p.scoring = make_scoring(d["mode"].cast<std::string>(), d["free_ends"].cast<std::string>(),
                           d["gap_open"].cast<float>(), d["gap_extend"].cast<float>());
  p.scale = d["scale"].cast<float>();
  p.bias = d["bias"].cast<float>();
  p.soft_scale = d["soft_scale"].cast<float>();
  if (d.contains("precision")) {
    const std::string prec = d["precision"].cast<std::string>();
    if (prec == "bf16") p.bf16 = true;
    else if (prec != "fp32") throw std::invalid_argument("precision: expected 'fp32' or 'bf16', got '" + prec + "'");
  }
  if (!std::isfinite(p.scale)) throw std::invalid_argument("scale: must be finite");
  if (!std::isfinite(p.bias)) throw std::invalid_argument("bias: must be finite");
  if (!std::isfinite(p.soft_scale) || !(p.soft_scale > 0.0f) || p.soft_scale > 40.0f)
    throw std::invalid_argument("soft_scale: must be in (0, 40]");
  return p;
}

struct PairsArgs {
  SeqSet a, b;
  const int64_t* pairs;
  int64_t m;
};

PairsArgs pairs_args(const py::array& values, const py::array& offsets, const py::array& pairs,
                     const py::object& tvalues, const py::object& toffsets) {
  PairsArgs r;
  r.a = make_set(values, offsets, "emb", "offsets");
  r.b = tvalues.is_none() ? r.a
                          : make_set(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets",
                                     "target_offsets");
  r.pairs = checked<int64_t>(pairs, "pairs", 2, 2);
  r.m = pairs.shape(0);
  return r;
}

py::tuple paths_to_numpy(Paths&& p) {
  const int64_t m = (int64_t)p.scores.size();
  py::array_t<float> scores(m);
  std::copy(p.scores.begin(), p.scores.end(), scores.mutable_data());
  py::array_t<int64_t> offsets(m + 1);
  std::copy(p.offsets.begin(), p.offsets.end(), offsets.mutable_data());
  const int64_t k = (int64_t)p.path.size() / 2;
  py::array_t<int32_t> path({k, (int64_t)2});
  std::copy(p.path.begin(), p.path.end(), path.mutable_data());
  return py::make_tuple(scores, offsets, path);
}

}  // namespace

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

  m.def(
      "score_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int threads, int simd) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const EngineParams p = make_params(params);
        py::array_t<float> out(a.m);
        float* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          score_pairs(a.a, a.b, a.pairs, a.m, p, threads, simd, o);
        }
        return out;
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1,
      "Score-only alignment of pairs (i, j): float32 [m]. values must be unit rows.");
  m.def(
      "align_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int threads, int simd) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const EngineParams p = make_params(params);
        Paths res;
        {
          py::gil_scoped_release nogil;
          res = align_pairs(a.a, a.b, a.pairs, a.m, p, threads, simd);
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1,
      "Alignment with traceback: (scores float32 [m], path_offsets int64 [m+1], path int32 [K, 2]).");
  m.def(
      "soft_align_scores",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int threads, int simd) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const EngineParams p = make_params(params);
        py::array_t<float> out(a.m);
        float* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          soft_scores(a.a, a.b, a.pairs, a.m, p, threads, simd, o);
        }
        return out;
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1,
      "Soft-alignment similarity of pairs: float32 [m].");
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
        AvaScore sk;
        if (score == "dp") sk = AvaScore::kDp;
        else if (score == "soft") sk = AvaScore::kSoft;
        else throw std::invalid_argument("score: expected 'dp' or 'soft', got '" + score + "'");
        AvaOutput ok;
        if (output == "dense") ok = AvaOutput::kDense;
        else if (output == "topk") ok = AvaOutput::kTopK;
        else if (output == "threshold") ok = AvaOutput::kThreshold;
        else throw std::invalid_argument("output: expected 'dense', 'topk' or 'threshold', got '" + output + "'");
        const int64_t nb = self ? a.n : b.n;
        py::array_t<float> dense(ok == AvaOutput::kDense ? std::vector<int64_t>{a.n, nb} : std::vector<int64_t>{0, 0});
        float* d = dense.mutable_data();
        std::function<void(int64_t, int64_t)> cb;
        if (!progress.is_none())
          cb = [&progress](int64_t done, int64_t total) {
            py::gil_scoped_acquire gil;
            progress(done, total);
          };
        AvaResult r;
        {
          py::gil_scoped_release nogil;
          r = all_vs_all(a, self ? nullptr : &b, p, sk, ok, top_k, min_score, threads, simd, d, cb);
        }
        if (ok == AvaOutput::kDense) return py::object(dense);
        py::array_t<int64_t> ii((int64_t)r.i.size()), jj((int64_t)r.j.size());
        py::array_t<float> ss((int64_t)r.score.size());
        std::copy(r.i.begin(), r.i.end(), ii.mutable_data());
        std::copy(r.j.begin(), r.j.end(), jj.mutable_data());
        std::copy(r.score.begin(), r.score.end(), ss.mutable_data());
        return py::object(py::make_tuple(ii, jj, ss));
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
        const int64_t count = (int64_t)matrices.size();
        std::vector<const float*> mats(count);
        std::vector<int64_t> rows(count), cols(count), nref(count, 0);
        std::vector<const int64_t*> refs(count, nullptr);
        std::vector<py::array> keep;
        for (int64_t k = 0; k < count; ++k) {
          py::array a = matrices[k].cast<py::array>();
          const std::string name = "matrices[" + std::to_string(k) + "]";
          mats[k] = checked<float>(a, name.c_str(), 2);
          rows[k] = a.shape(0);
          cols[k] = a.shape(1);
          const float* v = mats[k];
          for (int64_t x = 0; x < rows[k] * cols[k]; ++x)
            if (!std::isfinite(v[x])) throw std::invalid_argument(name + ": contains NaN or inf");
          keep.push_back(a);
        }
        if (!reference.is_none()) {
          py::list refl = reference.cast<py::list>();
          if ((int64_t)refl.size() != count)
            throw std::invalid_argument("reference: expected one array per matrix (" + std::to_string(count) +
                                        "), got " + std::to_string(refl.size()));
          for (int64_t k = 0; k < count; ++k) {
            if (refl[k].is_none()) continue;
            py::array a = refl[k].cast<py::array>();
            const std::string name = "reference[" + std::to_string(k) + "]";
            refs[k] = checked<int64_t>(a, name.c_str(), 2, 2);
            nref[k] = a.shape(0);
            keep.push_back(a);
          }
        }
        if (!std::isfinite(fp_margin)) throw std::invalid_argument("fp_margin: must be finite");
        if (!std::isfinite(fn_margin)) throw std::invalid_argument("fn_margin: must be finite");
        Paths res;
        {
          py::gil_scoped_release nogil;
          res = align_matrices(mats, rows, cols, refs, nref, p.scoring, fp_margin, fn_margin, traceback, threads, simd);
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("matrices"), py::arg("params"), py::arg("reference") = py::none(), py::arg("fp_margin") = 0.0f,
      py::arg("fn_margin") = 0.0f, py::arg("traceback") = true, py::arg("threads") = 0, py::arg("simd") = -1,
      "Alignment of explicit score matrices (used as-is), with optional margins against reference pairs.");
}
