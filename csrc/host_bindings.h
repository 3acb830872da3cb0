// Python-side argument handling that rnabert._core (csrc/bindings.cpp) and rnabert._cuda (cuda/bindings.cu)
// share, so that both modules accept the same arguments and raise the same ValueErrors: numpy array checks,
// the params dict, sequence sets, explicit matrices with their references, and results as numpy arrays.
// Templates take each engine's own structs (SeqSet or HostSet, EngineParams or Params, ...).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dp_recurrence.h"

namespace rnabert {
namespace host_bindings {

namespace py = pybind11;

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
    throw std::invalid_argument(std::string(name) + ": expected last dimension " + std::to_string(last_dim) + ", got " +
                                std::to_string(arr.shape(ndim - 1)));
  if (!(arr.flags() & py::array::c_style)) throw std::invalid_argument(std::string(name) + ": must be C-contiguous");
  return static_cast<const T*>(arr.data());
}

// A float32 ragged set (Set: SeqSet or HostSet, whose other fields keep their float32 defaults).
template <class Set>
Set make_set(const py::array& values, const py::array& offsets, const char* vname, const char* oname) {
  Set s;
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

inline dp::Scoring make_scoring(const std::string& mode, const std::string& free_ends, float gap_open,
                                float gap_extend) {
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

// params[key]; a missing key raises ValueError "params: missing '<key>'".
template <class T>
T param(const py::dict& d, const char* key) {
  if (!d.contains(key)) throw std::invalid_argument(std::string("params: missing '") + key + "'");
  return d[key].cast<T>();
}

// The params dict (Params: EngineParams or cuda_engine::Params), as AlignParams.as_dict() writes it. The
// values were checked in Python (rnabert.alignment.params); what stays here are the invariants the DP
// relies on, each a cheap throw.
template <class Params>
Params make_params(const py::dict& d) {
  Params p;
  p.scoring = make_scoring(param<std::string>(d, "mode"), param<std::string>(d, "free_ends"),
                           param<float>(d, "gap_open"), param<float>(d, "gap_extend"));
  p.scale = param<float>(d, "scale");
  p.bias = param<float>(d, "bias");
  p.soft_scale = param<float>(d, "soft_scale");
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

template <class Set>
struct PairsArgs {
  Set a, b;
  const int64_t* pairs;
  int64_t m;
};

template <class Set>
PairsArgs<Set> pairs_args(const py::array& values, const py::array& offsets, const py::array& pairs,
                          const py::object& tvalues, const py::object& toffsets) {
  PairsArgs<Set> r;
  r.a = make_set<Set>(values, offsets, "emb", "offsets");
  r.b = tvalues.is_none()
            ? r.a
            : make_set<Set>(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets", "target_offsets");
  r.pairs = checked<int64_t>(pairs, "pairs", 2, 2);
  r.m = pairs.shape(0);
  return r;
}

// all_vs_all's score and output arguments (the engines' AvaScore and AvaOutput enums).
template <class AvaScore>
AvaScore parse_ava_score(const std::string& score) {
  if (score == "dp") return AvaScore::kDp;
  if (score == "soft") return AvaScore::kSoft;
  throw std::invalid_argument("score: expected 'dp' or 'soft', got '" + score + "'");
}

template <class AvaOutput>
AvaOutput parse_ava_output(const std::string& output) {
  if (output == "dense") return AvaOutput::kDense;
  if (output == "topk") return AvaOutput::kTopK;
  if (output == "threshold") return AvaOutput::kThreshold;
  throw std::invalid_argument("output: expected 'dense', 'topk' or 'threshold', got '" + output + "'");
}

// all_vs_all's progress(done, total) as a callback for the engine, which calls it without the GIL between chunks of
// work; progress must outlive the call. It always takes the GIL to run Python's signal handlers, so Ctrl-C (a
// KeyboardInterrupt) ends the run within a chunk whether or not a progress bar is shown; progress may be None.
inline std::function<void(int64_t, int64_t)> progress_callback(const py::object& progress) {
  return [&progress](int64_t done, int64_t total) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!progress.is_none()) progress(done, total);
  };
}

// align_score_matrices' matrices (float32 2-D, non-empty; finiteness is checked in Python) and reference (None, or one
// int64 [n, 2] array or None per matrix), as the engines' align_score_matrices takes them; keep holds the arrays while
// they are used.
struct MatrixArgs {
  std::vector<const float*> mats;
  std::vector<int64_t> rows, cols, nref;
  std::vector<const int64_t*> refs;
  std::vector<py::array> keep;
};

inline MatrixArgs matrix_args(const py::list& matrices, const py::object& reference, float fp_margin, float fn_margin) {
  const int64_t count = (int64_t)matrices.size();
  MatrixArgs r;
  r.mats.resize(count);
  r.rows.resize(count);
  r.cols.resize(count);
  r.nref.assign(count, 0);
  r.refs.assign(count, nullptr);
  for (int64_t k = 0; k < count; ++k) {
    py::array a = matrices[k].cast<py::array>();
    const std::string name = "matrices[" + std::to_string(k) + "]";
    r.mats[k] = checked<float>(a, name.c_str(), 2);
    r.rows[k] = a.shape(0);
    r.cols[k] = a.shape(1);
    if (r.rows[k] == 0 || r.cols[k] == 0) throw std::invalid_argument(name + ": empty matrix");
    r.keep.push_back(a);
  }
  if (!reference.is_none()) {
    py::list refl = reference.cast<py::list>();
    if ((int64_t)refl.size() != count)
      throw std::invalid_argument("reference: expected one array per matrix (" + std::to_string(count) + "), got " +
                                  std::to_string(refl.size()));
    for (int64_t k = 0; k < count; ++k) {
      if (refl[k].is_none()) continue;
      py::array a = refl[k].cast<py::array>();
      const std::string name = "reference[" + std::to_string(k) + "]";
      r.refs[k] = checked<int64_t>(a, name.c_str(), 2, 2);
      r.nref[k] = a.shape(0);
      r.keep.push_back(a);
    }
  }
  if (!std::isfinite(fp_margin)) throw std::invalid_argument("fp_margin: must be finite");
  if (!std::isfinite(fn_margin)) throw std::invalid_argument("fn_margin: must be finite");
  return r;
}

// (scores float32 [m], path_offsets int64 [m+1], path int32 [K, 2]); empty offsets read as all zero.
template <class Paths>
py::tuple paths_to_numpy(Paths&& p) {
  const int64_t m = (int64_t)p.scores.size();
  py::array_t<float> scores(m);
  std::copy(p.scores.begin(), p.scores.end(), scores.mutable_data());
  if (p.offsets.empty()) p.offsets.assign(m + 1, 0);
  py::array_t<int64_t> offsets(m + 1);
  std::copy(p.offsets.begin(), p.offsets.end(), offsets.mutable_data());
  const int64_t k = (int64_t)p.path.size() / 2;
  py::array_t<int32_t> path({k, (int64_t)2});
  std::copy(p.path.begin(), p.path.end(), path.mutable_data());
  return py::make_tuple(scores, offsets, path);
}

// all_vs_all's 'topk' and 'threshold' results: (i int64, j int64, score float32).
template <class AvaResult>
py::tuple ava_to_numpy(const AvaResult& r) {
  py::array_t<int64_t> ii((int64_t)r.i.size()), jj((int64_t)r.j.size());
  py::array_t<float> ss((int64_t)r.score.size());
  std::copy(r.i.begin(), r.i.end(), ii.mutable_data());
  std::copy(r.j.begin(), r.j.end(), jj.mutable_data());
  std::copy(r.score.begin(), r.score.end(), ss.mutable_data());
  return py::make_tuple(ii, jj, ss);
}

}  // namespace host_bindings
}  // namespace rnabert
