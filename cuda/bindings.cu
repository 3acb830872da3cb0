// rnabert._cuda: the only file of cuda/ that knows Python. Kernels take device pointers and a stream.
//
// The engine functions take the same arguments as rnabert._core's (numpy arrays of the exact dtype,
// C-contiguous; anything else raises ValueError naming the argument), accept and ignore `threads` and
// `simd`, and add `stream` (an int cudaStream_t, e.g. torch.cuda.current_stream().cuda_stream; 0 = a
// stream created for the call). Arguments are validated before the GPU is touched, so bad input raises
// ValueError even on a machine without a GPU; a good call there raises RuntimeError (CudaError).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device.h"
#include "engine_cuda.h"
#include "kernels.h"
#include "planning.h"

namespace py = pybind11;
using namespace rnabert;
using cuda_engine::HostSet;
using cuda_kernels::DType;

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
  if (!(arr.flags() & py::array::c_style)) throw std::invalid_argument(std::string(name) + ": must be C-contiguous");
  return static_cast<const T*>(arr.data());
}

HostSet make_set(const py::array& values, const py::array& offsets, const char* vname, const char* oname) {
  HostSet s;
  s.values = checked<float>(values, vname, 2);
  s.offsets = checked<int64_t>(offsets, oname, 1);
  if (offsets.shape(0) < 2) throw std::invalid_argument(std::string(oname) + ": needs at least 2 entries (n+1)");
  s.n = offsets.shape(0) - 1;
  s.dim = values.shape(1);
  s.dtype = DType::kF32;
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

template <class T>
T param(const py::dict& d, const char* key) {
  if (!d.contains(key)) throw std::invalid_argument(std::string("params: missing '") + key + "'");
  return d[key].cast<T>();
}

cuda_engine::Params make_params(const py::dict& d) {
  cuda_engine::Params p;
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

struct PairsArgs {
  HostSet a, b;
  const int64_t* pairs;
  int64_t m;
};

PairsArgs pairs_args(const py::array& values, const py::array& offsets, const py::array& pairs,
                     const py::object& tvalues, const py::object& toffsets) {
  PairsArgs r;
  r.a = make_set(values, offsets, "emb", "offsets");
  r.b = tvalues.is_none()
            ? r.a
            : make_set(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets", "target_offsets");
  r.pairs = checked<int64_t>(pairs, "pairs", 2, 2);
  r.m = pairs.shape(0);
  return r;
}

cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

py::tuple paths_to_numpy(cuda_engine::Paths&& p) {
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

py::array_t<int64_t> to_numpy(const std::vector<int64_t>& v) {
  py::array_t<int64_t> out((int64_t)v.size());
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

DType parse_dtype(const std::string& s) {
  if (s == "fp32" || s == "float32") return DType::kF32;
  if (s == "fp16" || s == "float16") return DType::kF16;
  if (s == "bf16" || s == "bfloat16") return DType::kBF16;
  throw std::invalid_argument("dtype: expected 'fp32', 'fp16' or 'bf16', got '" + s + "'");
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "rnabert GPU engine (CUDA): fused embedding similarity and affine-gap dynamic programming";
  py::register_exception<rnabert::CudaError>(m, "CudaError", PyExc_RuntimeError);
  // False until the kernels have been checked against the CPU engine on a GPU (tests/test_cuda.py, gpu
  // marker); device="auto" prefers the CPU engine while it is False.
  m.attr("VALIDATED") = false;

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
  m.def("self_test", &rnabert::cuda_self_test, py::arg("device") = 0, py::call_guard<py::gil_scoped_release>(),
        "Run a tiny kernel on a device and check its output.");

  // ---- engine entry points: the signatures of rnabert._core, plus stream -------------------------------
  m.def(
      "score_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int, int, uintptr_t stream) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const cuda_engine::Params p = make_params(params);
        py::array_t<float> out(a.m);
        float* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          cuda_engine::score_pairs(a.a, a.b, a.pairs, a.m, p, as_stream(stream), o);
        }
        return out;
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1, py::arg("stream") = 0,
      "Score-only alignment of pairs (i, j) on the GPU: float32 [m]. values must be unit rows.");
  m.def(
      "align_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int, int, uintptr_t stream) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const cuda_engine::Params p = make_params(params);
        cuda_engine::Paths res;
        {
          py::gil_scoped_release nogil;
          res = cuda_engine::align_pairs(a.a, a.b, a.pairs, a.m, p, as_stream(stream));
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1, py::arg("stream") = 0,
      "Alignment with traceback on the GPU: (scores float32 [m], path_offsets int64 [m+1], path int32 [K, 2]).");
  m.def(
      "soft_align_scores",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
         py::object toffsets, int, int, uintptr_t stream) {
        const PairsArgs a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const cuda_engine::Params p = make_params(params);
        py::array_t<float> out(a.m);
        float* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          cuda_engine::soft_scores(a.a, a.b, a.pairs, a.m, p, as_stream(stream), o);
        }
        return out;
      },
      py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("threads") = 0, py::arg("simd") = -1, py::arg("stream") = 0,
      "Soft-alignment similarity of pairs on the GPU: float32 [m].");
  m.def(
      "all_vs_all",
      [](py::array values, py::array offsets, py::dict params, py::object tvalues, py::object toffsets,
         const std::string& score, const std::string& output, int64_t top_k, float min_score, int, int,
         py::object progress, uintptr_t stream) {
        const HostSet a = make_set(values, offsets, "emb", "offsets");
        HostSet b;
        const bool self = tvalues.is_none();
        if (!self) b = make_set(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets", "target_offsets");
        const cuda_engine::Params p = make_params(params);
        cuda_engine::AvaScore sk;
        if (score == "dp") sk = cuda_engine::AvaScore::kDp;
        else if (score == "soft") sk = cuda_engine::AvaScore::kSoft;
        else throw std::invalid_argument("score: expected 'dp' or 'soft', got '" + score + "'");
        cuda_engine::AvaOutput ok;
        if (output == "dense") ok = cuda_engine::AvaOutput::kDense;
        else if (output == "topk") ok = cuda_engine::AvaOutput::kTopK;
        else if (output == "threshold") ok = cuda_engine::AvaOutput::kThreshold;
        else throw std::invalid_argument("output: expected 'dense', 'topk' or 'threshold', got '" + output + "'");
        if (ok == cuda_engine::AvaOutput::kTopK && top_k < 1) throw std::invalid_argument("top_k must be >= 1");
        const int64_t nb = self ? a.n : b.n;
        py::array_t<float> dense(ok == cuda_engine::AvaOutput::kDense ? std::vector<int64_t>{a.n, nb}
                                                                      : std::vector<int64_t>{0, 0});
        float* d = dense.mutable_data();
        std::function<void(int64_t, int64_t)> cb;
        if (!progress.is_none())
          cb = [&progress](int64_t done, int64_t total) {
            py::gil_scoped_acquire gil;
            progress(done, total);
          };
        cuda_engine::AvaResult r;
        {
          py::gil_scoped_release nogil;
          r = cuda_engine::all_vs_all(a, self ? nullptr : &b, p, sk, ok, top_k, min_score, as_stream(stream), d, cb);
        }
        if (ok == cuda_engine::AvaOutput::kDense) return py::object(dense);
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
      py::arg("progress") = py::none(), py::arg("stream") = 0,
      "All pairs (i < j) of one set, or query x target, on the GPU, streamed in tiles: dense [n, n_t] float32, or "
      "(i, j, score) arrays for 'topk' and 'threshold'. progress(done, total) is called between tiles.");
  m.def(
      "align_score_matrices",
      [](py::list matrices, py::dict params, py::object reference, float fp_margin, float fn_margin, bool traceback,
         int, int, uintptr_t stream) {
        const cuda_engine::Params p = make_params(params);
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
        cuda_engine::Paths res;
        {
          py::gil_scoped_release nogil;
          res = cuda_engine::align_matrices(mats, rows, cols, refs, nref, p.scoring, fp_margin, fn_margin, traceback,
                                            as_stream(stream));
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("matrices"), py::arg("params"), py::arg("reference") = py::none(), py::arg("fp_margin") = 0.0f,
      py::arg("fn_margin") = 0.0f, py::arg("traceback") = true, py::arg("threads") = 0, py::arg("simd") = -1,
      py::arg("stream") = 0,
      "Alignment of explicit score matrices (used as-is) on the GPU, with optional margins against reference pairs.");

  // ---- data already on the device --------------------------------------------------------------------
  m.def(
      "score_pairs_device",
      [](uintptr_t values_ptr, uintptr_t offsets_ptr, uintptr_t pairs_ptr, int64_t mm, int64_t n, int64_t dim,
         py::dict params, uintptr_t out_ptr, uintptr_t stream, const std::string& dtype) {
        const DType dt = parse_dtype(dtype);
        const cuda_engine::Params p = make_params(params);
        if (p.bf16)
          throw std::invalid_argument("params: precision='bf16' does not apply here; pass bf16 values, dtype='bf16'");
        py::gil_scoped_release nogil;
        cuda_engine::score_pairs_device(reinterpret_cast<const void*>(values_ptr),
                                        reinterpret_cast<const int64_t*>(offsets_ptr),
                                        reinterpret_cast<const int64_t*>(pairs_ptr), mm, n, dim, dt, p,
                                        reinterpret_cast<float*>(out_ptr), as_stream(stream));
      },
      py::arg("values_ptr"), py::arg("offsets_ptr"), py::arg("pairs_ptr"), py::arg("m"), py::arg("n"), py::arg("dim"),
      py::arg("params"), py::arg("out_ptr"), py::arg("stream") = 0, py::arg("dtype") = "fp32",
      "Score-only alignment of device-resident data (e.g. torch CUDA tensors' data_ptr()): values [rows, dim] of "
      "dtype, offsets [n+1] int64, pairs [m, 2] int64, out [m] float32; queued on `stream` (0: a stream created "
      "and synchronised for the call). Reads offsets and pairs back once for planning (synchronises `stream`).");

  m.def(
      "soft_align_scores_device",
      [](uintptr_t values_ptr, uintptr_t offsets_ptr, uintptr_t pairs_ptr, int64_t mm, int64_t n, int64_t dim,
         py::dict params, uintptr_t out_ptr, uintptr_t stream, const std::string& dtype) {
        const DType dt = parse_dtype(dtype);
        const cuda_engine::Params p = make_params(params);
        if (p.bf16)
          throw std::invalid_argument("params: precision='bf16' does not apply here; pass bf16 values, dtype='bf16'");
        py::gil_scoped_release nogil;
        cuda_engine::soft_scores_device(reinterpret_cast<const void*>(values_ptr),
                                        reinterpret_cast<const int64_t*>(offsets_ptr),
                                        reinterpret_cast<const int64_t*>(pairs_ptr), mm, n, dim, dt, p,
                                        reinterpret_cast<float*>(out_ptr), as_stream(stream));
      },
      py::arg("values_ptr"), py::arg("offsets_ptr"), py::arg("pairs_ptr"), py::arg("m"), py::arg("n"), py::arg("dim"),
      py::arg("params"), py::arg("out_ptr"), py::arg("stream") = 0, py::arg("dtype") = "fp32",
      "Soft-alignment similarity of device-resident data (e.g. torch CUDA tensors' data_ptr()): values [rows, dim] of "
      "dtype, offsets [n+1] int64, pairs [m, 2] int64, out [m] float32; queued on `stream` (0: a stream created "
      "and synchronised for the call). Reads offsets and pairs back once for planning (synchronises `stream`).");

  // ---- host-side planning, exposed for tests (no GPU needed) -----------------------------------------
  m.def(
      "plan_batches",
      [](py::array len_a, py::array len_b, py::array pairs, bool trace, int64_t budget, int64_t max_pairs) {
        const int64_t* la = checked<int64_t>(len_a, "len_a", 1);
        const int64_t* lb = checked<int64_t>(len_b, "len_b", 1);
        const int64_t* pp = checked<int64_t>(pairs, "pairs", 2, 2);
        const int64_t mm = pairs.shape(0);
        for (int64_t k = 0; k < mm; ++k)
          if (pp[2 * k] < 0 || pp[2 * k] >= len_a.shape(0) || pp[2 * k + 1] < 0 || pp[2 * k + 1] >= len_b.shape(0))
            throw std::invalid_argument("pairs: row " + std::to_string(k) + " out of range");
        const std::vector<int64_t> order = cuda_plan::order_by_cost(la, lb, pp, mm);
        const std::vector<int64_t> starts = cuda_plan::split_batches(order, la, lb, pp, trace, budget, max_pairs);
        return py::make_tuple(to_numpy(order), to_numpy(starts));
      },
      py::arg("len_a"), py::arg("len_b"), py::arg("pairs"), py::arg("trace") = false, py::arg("budget") = 1 << 30,
      py::arg("max_pairs") = 1 << 22,
      "The GPU engine's plan for a pair list: (order int64 [m], batch starts int64 [B+1]); pairs by cost L1*L2, "
      "largest first, cut into batches whose device bytes (pair_bytes) stay within budget.");
  m.def("pair_bytes", &cuda_plan::pair_bytes, py::arg("L1"), py::arg("L2"), py::arg("trace"),
        "Device bytes one pair needs in a batch (traceback bits and path slot when trace).");
  m.def(
      "plan_tiles",
      [](int64_t n_a, int64_t n_b, bool self, int64_t tile) {
        if (n_a < 0 || n_b < 0) throw std::invalid_argument("n: must be >= 0");
        const std::vector<int64_t> t = cuda_plan::tiles(n_a, n_b, self, tile);
        py::array_t<int64_t> out({(int64_t)t.size() / 4, (int64_t)4});
        std::copy(t.begin(), t.end(), out.mutable_data());
        return out;
      },
      py::arg("n_a"), py::arg("n_b"), py::arg("self"), py::arg("tile"),
      "Tiles (q0, q1, t0, t1) of the all-vs-all grid (self: only those meeting i <= j).");
  m.def(
      "tile_pairs",
      [](int64_t q0, int64_t q1, int64_t t0, int64_t t1, bool self, bool diagonal) {
        std::vector<int64_t> v;
        cuda_plan::tile_pairs(q0, q1, t0, t1, self, diagonal, v);
        py::array_t<int64_t> out({(int64_t)v.size() / 2, (int64_t)2});
        std::copy(v.begin(), v.end(), out.mutable_data());
        return out;
      },
      py::arg("q0"), py::arg("q1"), py::arg("t0"), py::arg("t1"), py::arg("self"), py::arg("diagonal"),
      "The pairs (i, j) of one tile (self: j > i, or j >= i with the diagonal).");
  m.def(
      "length_order",
      [](py::array len) {
        const int64_t* l = checked<int64_t>(len, "len", 1);
        return to_numpy(cuda_plan::by_length(l, len.shape(0)));
      },
      py::arg("len"), "Sequence indices sorted by length (stable): the order all-vs-all tiles run over.");
  m.def("tile_for_budget", &cuda_plan::tile_for_budget, py::arg("budget"),
        "All-vs-all tile edge whose per-tile buffers fit `budget` bytes.");
  m.def("byte_budget", &cuda_engine::byte_budget,
        "Device bytes a call may use for batches and tiles (RNABERT_CUDA_BUDGET_MB, default 1024 MiB).");
  m.def(
      "launch_shape",
      [](int64_t mm, int dim, bool matrices, int sm_count, size_t shared_optin) {
        const auto s = cuda_kernels::dp_launch_shape(mm, dim, matrices, sm_count, shared_optin);
        py::dict d;
        d["blocks"] = s.blocks;
        d["warps_per_block"] = s.warps_per_block;
        d["shared_bytes"] = s.shared_bytes;
        return d;
      },
      py::arg("m"), py::arg("dim"), py::arg("matrices"), py::arg("sm_count"), py::arg("shared_optin"),
      "The DP kernels' grid for m items on a GPU with sm_count SMs and shared_optin bytes of shared memory per "
      "block: {'blocks', 'warps_per_block', 'shared_bytes'} (one warp per item, a grid-stride loop over items).");
  m.def("scratch_floats", &cuda_kernels::dp_scratch_floats, py::arg("max_l1"), py::arg("max_l2"),
        "Global scratch floats per warp slot of the DP kernels (row H, row E, last column).");
}
