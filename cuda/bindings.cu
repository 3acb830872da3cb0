// rnabert._cuda: the only file of cuda/ that knows Python. Kernels take device pointers and a stream.
//
// The engine functions take the same arguments as rnabert._core's (numpy arrays of the exact dtype,
// C-contiguous; anything else raises ValueError naming the argument) without `threads` and `simd`
// (CPU notions), and add `stream` (an int cudaStream_t, e.g. torch.cuda.current_stream().cuda_stream; 0 = a
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
#include "host_bindings.h"
#include "kernels.h"
#include "planning.h"

namespace py = pybind11;
using namespace rnabert;
using cuda_engine::HostSet;
using cuda_kernels::DType;

namespace {

using namespace rnabert::host_bindings;

HostSet make_set(const py::array& values, const py::array& offsets, const char* vname, const char* oname) {
  return host_bindings::make_set<HostSet>(values, offsets, vname, oname);
}

cuda_engine::Params make_params(const py::dict& d) { return host_bindings::make_params<cuda_engine::Params>(d); }

PairsArgs<HostSet> pairs_args(const py::array& values, const py::array& offsets, const py::array& pairs,
                              const py::object& tvalues, const py::object& toffsets) {
  return host_bindings::pairs_args<HostSet>(values, offsets, pairs, tvalues, toffsets);
}

cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

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

// score_pairs and soft_align_scores (host arrays) take the same arguments; only the kernel differs.
template <class Kernel>
auto pair_scores(Kernel kernel) {
  return [kernel](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues,
                  py::object toffsets, uintptr_t stream) {
    const auto a = pairs_args(values, offsets, pairs, tvalues, toffsets);
    const cuda_engine::Params p = make_params(params);
    py::array_t<float> out(a.m);
    float* o = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      kernel(a.a, a.b, a.pairs, a.m, p, as_stream(stream), o);
    }
    return out;
  };
}

// The arguments of _core's pair entry points, less threads and simd, plus stream.
#define PAIR_ARGS                                                             \
  py::arg("values"), py::arg("offsets"), py::arg("pairs"), py::arg("params"), \
      py::arg("target_values") = py::none(), py::arg("target_offsets") = py::none(), py::arg("stream") = 0

// score_pairs_device and soft_align_scores_device take the same arguments; only the kernel differs.
using DevicePairKernel = void (*)(const void*, const int64_t*, const int64_t*, int64_t, int64_t, int64_t, DType,
                                  const cuda_engine::Params&, float*, cudaStream_t);

auto device_pair_scores(DevicePairKernel kernel) {
  return [kernel](uintptr_t values_ptr, uintptr_t offsets_ptr, uintptr_t pairs_ptr, int64_t mm, int64_t n, int64_t dim,
                  py::dict params, uintptr_t out_ptr, uintptr_t stream, const std::string& dtype) {
    const DType dt = parse_dtype(dtype);
    const cuda_engine::Params p = make_params(params);
    if (p.bf16)
      throw std::invalid_argument("params: precision='bf16' does not apply here; pass bf16 values, dtype='bf16'");
    py::gil_scoped_release nogil;
    kernel(reinterpret_cast<const void*>(values_ptr), reinterpret_cast<const int64_t*>(offsets_ptr),
           reinterpret_cast<const int64_t*>(pairs_ptr), mm, n, dim, dt, p, reinterpret_cast<float*>(out_ptr),
           as_stream(stream));
  };
}

#define DEVICE_PAIR_ARGS                                                                                           \
  py::arg("values_ptr"), py::arg("offsets_ptr"), py::arg("pairs_ptr"), py::arg("m"), py::arg("n"), py::arg("dim"), \
      py::arg("params"), py::arg("out_ptr"), py::arg("stream") = 0, py::arg("dtype") = "fp32"
#define DEVICE_PAIR_DOC                                                                                            \
  " (e.g. torch CUDA tensors' data_ptr()): values [rows, dim] of dtype, offsets [n+1] int64, pairs [m, 2] int64, " \
  "out [m] float32; queued on `stream` (0: a stream created and synchronised for the call). Reads offsets and "    \
  "pairs back once for planning (synchronises `stream`)."

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
  m.def("score_pairs", pair_scores(&cuda_engine::score_pairs), PAIR_ARGS,
        "Score-only alignment of pairs (i, j) on the GPU: float32 [m]. values must be unit rows.");
  m.def(
      "align_pairs",
      [](py::array values, py::array offsets, py::array pairs, py::dict params, py::object tvalues, py::object toffsets,
         uintptr_t stream) {
        const auto a = pairs_args(values, offsets, pairs, tvalues, toffsets);
        const cuda_engine::Params p = make_params(params);
        cuda_engine::Paths res;
        {
          py::gil_scoped_release nogil;
          res = cuda_engine::align_pairs(a.a, a.b, a.pairs, a.m, p, as_stream(stream));
        }
        return paths_to_numpy(std::move(res));
      },
      PAIR_ARGS,
      "Alignment with traceback on the GPU: (scores float32 [m], path_offsets int64 [m+1], path int32 [K, 2]).");
  m.def("soft_align_scores", pair_scores(&cuda_engine::soft_scores), PAIR_ARGS,
        "Soft-alignment similarity of pairs on the GPU: float32 [m].");
  m.def(
      "all_vs_all",
      [](py::array values, py::array offsets, py::dict params, py::object tvalues, py::object toffsets,
         const std::string& score, const std::string& output, int64_t top_k, float min_score, py::object progress,
         uintptr_t stream) {
        const HostSet a = make_set(values, offsets, "emb", "offsets");
        HostSet b;
        const bool self = tvalues.is_none();
        if (!self) b = make_set(tvalues.cast<py::array>(), toffsets.cast<py::array>(), "targets", "target_offsets");
        const cuda_engine::Params p = make_params(params);
        const auto sk = parse_ava_score<cuda_engine::AvaScore>(score);
        const auto ok = parse_ava_output<cuda_engine::AvaOutput>(output);
        if (ok == cuda_engine::AvaOutput::kTopK && top_k < 1) throw std::invalid_argument("top_k must be >= 1");
        const int64_t nb = self ? a.n : b.n;
        py::array_t<float> dense(ok == cuda_engine::AvaOutput::kDense ? std::vector<int64_t>{a.n, nb}
                                                                      : std::vector<int64_t>{0, 0});
        float* d = dense.mutable_data();
        const std::function<void(int64_t, int64_t)> cb = progress_callback(progress);
        cuda_engine::AvaResult r;
        {
          py::gil_scoped_release nogil;
          r = cuda_engine::all_vs_all(a, self ? nullptr : &b, p, sk, ok, top_k, min_score, as_stream(stream), d, cb);
        }
        if (ok == cuda_engine::AvaOutput::kDense) return py::object(dense);
        return py::object(ava_to_numpy(r));
      },
      py::arg("values"), py::arg("offsets"), py::arg("params"), py::arg("target_values") = py::none(),
      py::arg("target_offsets") = py::none(), py::arg("score") = "dp", py::arg("output") = "dense",
      py::arg("top_k") = 0, py::arg("min_score") = 0.0f, py::arg("progress") = py::none(), py::arg("stream") = 0,
      "All pairs (i < j) of one set, or query x target, on the GPU, streamed in tiles: dense [n, n_t] float32, or "
      "(i, j, score) arrays for 'topk' and 'threshold'. progress(done, total) is called between tiles.");
  m.def(
      "align_score_matrices",
      [](py::list matrices, py::dict params, py::object reference, float fp_margin, float fn_margin, bool traceback,
         uintptr_t stream) {
        const cuda_engine::Params p = make_params(params);
        const MatrixArgs x = matrix_args(matrices, reference, fp_margin, fn_margin);
        cuda_engine::Paths res;
        {
          py::gil_scoped_release nogil;
          res = cuda_engine::align_score_matrices(x.mats, x.rows, x.cols, x.refs, x.nref, p.scoring, fp_margin,
                                                  fn_margin, traceback, as_stream(stream));
        }
        return paths_to_numpy(std::move(res));
      },
      py::arg("matrices"), py::arg("params"), py::arg("reference") = py::none(), py::arg("fp_margin") = 0.0f,
      py::arg("fn_margin") = 0.0f, py::arg("traceback") = true, py::arg("stream") = 0,
      "Alignment of explicit score matrices (used as-is) on the GPU, with optional margins against reference pairs.");

  // ---- data already on the device --------------------------------------------------------------------
  m.def("score_pairs_device", device_pair_scores(&cuda_engine::score_pairs_device), DEVICE_PAIR_ARGS,
        "Score-only alignment of device-resident data" DEVICE_PAIR_DOC);

  m.def("soft_align_scores_device", device_pair_scores(&cuda_engine::soft_scores_device), DEVICE_PAIR_ARGS,
        "Soft-alignment similarity of device-resident data" DEVICE_PAIR_DOC);

  // ---- host-side planning, for tests only (no GPU needed): rnabert._cuda.testing ----------------------
  py::module_ t = m.def_submodule("testing", "The GPU engine's host-side planning, exposed for tests (no GPU needed).");
  t.def(
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
  t.def("pair_bytes", &cuda_plan::pair_bytes, py::arg("L1"), py::arg("L2"), py::arg("trace"),
        "Device bytes one pair needs in a batch (traceback bits and path slot when trace).");
  t.def(
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
  t.def(
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
  t.def(
      "length_order",
      [](py::array len) {
        const int64_t* l = checked<int64_t>(len, "len", 1);
        return to_numpy(cuda_plan::by_length(l, len.shape(0)));
      },
      py::arg("len"), "Sequence indices sorted by length (stable): the order all-vs-all tiles run over.");
  t.def("tile_for_budget", &cuda_plan::tile_for_budget, py::arg("budget"),
        "All-vs-all tile edge whose per-tile buffers fit `budget` bytes.");
  t.def("byte_budget", &cuda_engine::byte_budget,
        "Device bytes a call may use for batches and tiles (RNABERT_CUDA_BUDGET_MB, default 1024 MiB).");
  t.def(
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
  t.def("scratch_floats", &cuda_kernels::dp_scratch_floats, py::arg("max_l1"), py::arg("max_l2"),
        "Global scratch floats per warp slot of the DP kernels (row H, row E, last column).");
}
