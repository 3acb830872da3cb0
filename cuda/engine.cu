// The GPU engine's host side (see engine_cuda.h): validation, uploads, batches under a byte budget, tiles
// of the all-vs-all grid, result assembly. Kernels live in dp.cu; planning in planning.cpp.
#include "engine_cuda.h"

#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "device.h"
#include "engine_common.h"
#include "planning.h"

namespace rnabert {
namespace cuda_engine {

using cuda_kernels::DpArgs;
using cuda_kernels::DType;

namespace {

constexpr int64_t kMaxPairsPerBatch = (int64_t)1 << 22;

// Stream-ordered device memory, freed on the stream it was allocated on (also during unwinding).
class DevBuf {
 public:
  explicit DevBuf(cudaStream_t s) : stream_(s) {}
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  ~DevBuf() {
    if (ptr_) cudaFreeAsync(ptr_, stream_);
  }
  void* reserve(size_t bytes) {
    if (bytes <= cap_) return ptr_;
    if (ptr_) RNABERT_CUDA_CHECK(cudaFreeAsync(ptr_, stream_));
    ptr_ = nullptr;
    cap_ = 0;
    RNABERT_CUDA_CHECK(cudaMallocAsync(&ptr_, bytes > 0 ? bytes : 1, stream_));
    cap_ = bytes;
    return ptr_;
  }
  template <class T>
  T* upload(const T* host, size_t count) {
    T* d = static_cast<T*>(reserve(count * sizeof(T)));
    if (count) RNABERT_CUDA_CHECK(cudaMemcpyAsync(d, host, count * sizeof(T), cudaMemcpyHostToDevice, stream_));
    return d;
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  size_t cap_ = 0;
  cudaStream_t stream_;
};

// The caller's stream, or one created for this call (never the legacy default stream).
class StreamScope {
 public:
  explicit StreamScope(cudaStream_t s) : s_(s) {
    if (!s_) {
      RNABERT_CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
      owned_ = true;
    }
  }
  ~StreamScope() {
    if (owned_) {
      cudaStreamSynchronize(s_);
      cudaStreamDestroy(s_);
    }
  }
  cudaStream_t get() const { return s_; }
  void sync() const { RNABERT_CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
  bool owned_ = false;
};

struct Device {
  int sm_count = 1;
  size_t shared_optin = 48 * 1024;
};

Device current_device() {
  int dev = 0;
  RNABERT_CUDA_CHECK(cudaGetDevice(&dev));
  Device d;
  int v = 0;
  RNABERT_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev));
  d.sm_count = v;
  RNABERT_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  d.shared_optin = (size_t)v;
  return d;
}

size_t dtype_size(DType t) { return t == DType::kF32 ? 4 : 2; }

uint16_t bf16_bits(float x) {  // round to nearest even (inputs are finite), as csrc/engine.cpp
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

std::vector<int64_t> lengths(const HostSet& s) {
  std::vector<int64_t> len(s.n);
  for (int64_t k = 0; k < s.n; ++k) len[k] = s.offsets[k + 1] - s.offsets[k];
  return len;
}

// One set's values and offsets on the device (bf16-rounded when asked).
struct DevSet {
  DevBuf values, offsets;
  DType dtype = DType::kF32;
  explicit DevSet(cudaStream_t s) : values(s), offsets(s) {}
  cuda_kernels::DevSeqs seqs() const { return {values.as<void>(), offsets.as<int64_t>()}; }
};

void upload_set(const HostSet& h, bool bf16, DevSet& d) {
  const int64_t count = h.offsets[h.n] * h.dim;
  d.offsets.upload(h.offsets, (size_t)h.n + 1);
  if (bf16 && h.dtype == DType::kF32) {
    std::vector<uint16_t> packed((size_t)count);
    const float* v = static_cast<const float*>(h.values);
    for (int64_t x = 0; x < count; ++x) packed[x] = bf16_bits(v[x]);
    d.values.upload(packed.data(), packed.size());
    d.dtype = DType::kBF16;
    return;  // the copy is staged before cudaMemcpyAsync returns (pageable source), so `packed` may go
  }
  d.values.upload(static_cast<const unsigned char*>(h.values), (size_t)count * dtype_size(h.dtype));
  d.dtype = h.dtype;
}

// The results of one batch, in batch order.
struct BatchOut {
  std::vector<float> scores;
  std::vector<int64_t> path_len, path_off;
  std::vector<int32_t> path;
};

enum class Kind { kScore, kTrace, kSoft };

// Runs one batch of items (pairs_host [mb][2], lens [mb][2] = L1, L2) on the kernel `kind`. With dev_out,
// scores go to dev_out[dst[k]] on the device and nothing is copied back (the stream is not synchronised).
void run_batch(const DpArgs& base, const std::vector<int64_t>& pairs_host, const std::vector<int64_t>& lens, Kind kind,
               float soft_scale, const Device& dev, cudaStream_t s, BatchOut* out, float* dev_out = nullptr,
               const std::vector<int64_t>* dst = nullptr) {
  const int64_t mb = (int64_t)lens.size() / 2;
  if (mb == 0) return;
  int64_t max_l1 = 1, max_l2 = 1;
  for (int64_t k = 0; k < mb; ++k) {
    max_l1 = std::max(max_l1, lens[2 * k]);
    max_l2 = std::max(max_l2, lens[2 * k + 1]);
  }
  DpArgs a = base;
  a.m = mb;
  DevBuf d_pairs(s), d_scores(s), d_dst(s), d_scratch(s), d_tb(s), d_tboff(s), d_ends(s), d_lens(s), d_path(s),
      d_pathoff(s), d_pathlen(s);
  a.pairs = d_pairs.upload(pairs_host.data(), pairs_host.size());
  if (dev_out) {
    a.scores = dev_out;
    a.dst = d_dst.upload(dst->data(), dst->size());
  } else {
    a.scores = static_cast<float*>(d_scores.reserve(sizeof(float) * mb));
    a.dst = nullptr;
    // Poison (all-ones bits: NaN): a score the kernel failed to write comes back as NaN, not as stale memory.
    RNABERT_CUDA_CHECK(cudaMemsetAsync(a.scores, 0xFF, sizeof(float) * mb, s));
  }
  const bool matrices = a.mats != nullptr;
  cuda_kernels::LaunchShape shape = cuda_kernels::dp_launch_shape(mb, a.dim, matrices, dev.sm_count, dev.shared_optin);
  a.scratch_stride = kind == Kind::kSoft ? cuda_kernels::soft_scratch_floats(max_l1, max_l2)
                                         : cuda_kernels::dp_scratch_floats(max_l1, max_l2);
  a.scratch_stride = (a.scratch_stride + 31) / 32 * 32;  // 128-byte aligned slots
  // The scratch (one slot per warp of the grid) takes at most a quarter of the budget: long sequences
  // get fewer blocks, never more memory.
  const int64_t max_blocks = byte_budget() / 4 / (a.scratch_stride * 4 * shape.warps_per_block);
  shape.blocks = (int)std::max<int64_t>(1, std::min<int64_t>(shape.blocks, max_blocks));
  const int64_t slots = (int64_t)shape.blocks * shape.warps_per_block;
  a.scratch = static_cast<float*>(d_scratch.reserve(sizeof(float) * slots * a.scratch_stride));
  std::vector<int64_t> tboff, pathoff;
  if (kind == Kind::kTrace) {
    tboff.resize(mb);
    pathoff.resize(mb + 1);
    int64_t words = 0;
    pathoff[0] = 0;
    for (int64_t k = 0; k < mb; ++k) {
      tboff[k] = words;
      words += cuda_plan::trace_bytes(lens[2 * k], lens[2 * k + 1]) / 4;
      pathoff[k + 1] = pathoff[k] + cuda_plan::path_capacity(lens[2 * k], lens[2 * k + 1]);
    }
    a.tb = static_cast<uint32_t*>(d_tb.reserve(sizeof(uint32_t) * words));
    a.tb_offsets = d_tboff.upload(tboff.data(), tboff.size());
    a.ends = static_cast<int32_t*>(d_ends.reserve(sizeof(int32_t) * 2 * mb));
  } else {
    a.tb = nullptr;
    a.tb_offsets = nullptr;
    a.ends = nullptr;
  }
  if (kind == Kind::kSoft) cuda_kernels::launch_soft(a, soft_scale, shape, s);
  else cuda_kernels::launch_dp(a, shape, s);
  if (dev_out) return;
  out->scores.resize(mb);
  if (kind == Kind::kTrace) {
    const int64_t* d_l = d_lens.upload(lens.data(), lens.size());
    const int64_t* d_po = d_pathoff.upload(pathoff.data(), pathoff.size());
    int32_t* d_p = static_cast<int32_t*>(d_path.reserve(sizeof(int32_t) * 2 * std::max<int64_t>(pathoff[mb], 1)));
    int64_t* d_pl = static_cast<int64_t*>(d_pathlen.reserve(sizeof(int64_t) * mb));
    RNABERT_CUDA_CHECK(cudaMemsetAsync(d_pl, 0xFF, sizeof(int64_t) * mb, s));  // -1: "never written"
    cuda_kernels::launch_traceback(a, d_l, d_po, d_p, d_pl, s);
    out->path_len.resize(mb);
    out->path.resize(2 * pathoff[mb]);
    out->path_off = pathoff;
    RNABERT_CUDA_CHECK(cudaMemcpyAsync(out->path_len.data(), d_pl, sizeof(int64_t) * mb, cudaMemcpyDeviceToHost, s));
    if (pathoff[mb])
      RNABERT_CUDA_CHECK(
          cudaMemcpyAsync(out->path.data(), d_p, sizeof(int32_t) * 2 * pathoff[mb], cudaMemcpyDeviceToHost, s));
  }
  RNABERT_CUDA_CHECK(cudaMemcpyAsync(out->scores.data(), a.scores, sizeof(float) * mb, cudaMemcpyDeviceToHost, s));
  RNABERT_CUDA_CHECK(cudaStreamSynchronize(s));
  if (kind == Kind::kTrace)
    for (int64_t k = 0; k < mb; ++k)
      if (out->path_len[k] < 0 || out->path_len[k] > pathoff[k + 1] - pathoff[k])
        throw CudaError("rnabert._cuda internal error: traceback of batch item " + std::to_string(k) + " has length " +
                        std::to_string(out->path_len[k]) + " (capacity " + std::to_string(pathoff[k + 1] - pathoff[k]) +
                        ")");
}

// Pairs of embedded sequences, batched; results scattered back into pair order.
struct PairRun {
  std::vector<float> scores;
  std::vector<int64_t> where, len;  // trace: pair k's path is flat[2*where[k] .. 2*(where[k]+len[k]))
  std::vector<int32_t> flat;
};

// sorted: the pairs already come in an order with similar costs side by side (all-vs-all tiles over
// length-sorted sequences), so the O(m log m) host sort is skipped.
PairRun run_pairs(const DpArgs& base, const std::vector<int64_t>& len_a, const std::vector<int64_t>& len_b,
                  const int64_t* pairs, int64_t m, Kind kind, float soft_scale, const Device& dev, cudaStream_t s,
                  bool sorted = false) {
  PairRun r;
  r.scores.resize(m);
  if (kind == Kind::kTrace) {
    r.where.resize(m);
    r.len.resize(m);
  }
  std::vector<int64_t> order;
  if (sorted) {
    order.resize(m);
    std::iota(order.begin(), order.end(), 0);
  } else {
    order = cuda_plan::order_by_cost(len_a.data(), len_b.data(), pairs, m);
  }
  const std::vector<int64_t> starts = cuda_plan::split_batches(order, len_a.data(), len_b.data(), pairs,
                                                               kind == Kind::kTrace, byte_budget(), kMaxPairsPerBatch);
  std::vector<int64_t> bp, bl;
  BatchOut out;
  for (size_t b = 0; b + 1 < starts.size(); ++b) {
    bp.clear();
    bl.clear();
    for (int64_t t = starts[b]; t < starts[b + 1]; ++t) {
      const int64_t k = order[t];
      bp.push_back(pairs[2 * k]);
      bp.push_back(pairs[2 * k + 1]);
      bl.push_back(len_a[pairs[2 * k]]);
      bl.push_back(len_b[pairs[2 * k + 1]]);
    }
    run_batch(base, bp, bl, kind, soft_scale, dev, s, &out);
    for (int64_t t = starts[b]; t < starts[b + 1]; ++t) {
      const int64_t x = t - starts[b], k = order[t];
      r.scores[k] = out.scores[x];
      if (kind == Kind::kTrace) {
        r.where[k] = (int64_t)r.flat.size() / 2;
        r.len[k] = out.path_len[x];
        const int32_t* src = out.path.data() + 2 * out.path_off[x];
        r.flat.insert(r.flat.end(), src, src + 2 * out.path_len[x]);
      }
    }
  }
  return r;
}

Paths stitch(PairRun&& r, int64_t m) {
  Paths res;
  res.scores = std::move(r.scores);
  res.offsets.assign(m + 1, 0);
  for (int64_t k = 0; k < m; ++k) res.offsets[k + 1] = res.offsets[k] + r.len[k];
  res.path.resize(2 * res.offsets[m]);
  for (int64_t k = 0; k < m; ++k)
    std::copy(r.flat.begin() + 2 * r.where[k], r.flat.begin() + 2 * (r.where[k] + r.len[k]),
              res.path.begin() + 2 * res.offsets[k]);
  return res;
}

DpArgs base_args(const DevSet& a, const DevSet& b, int64_t dim, const Params& p) {
  DpArgs x;
  x.a = a.seqs();
  x.b = b.seqs();
  x.dim = (int)dim;
  x.dtype = a.dtype;
  x.scoring = p.scoring;
  x.scale = p.scale;
  x.bias = p.bias;
  return x;
}

bool same_set(const HostSet& a, const HostSet& b) { return a.values == b.values && a.offsets == b.offsets; }

PairRun pairs_common(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                     cudaStream_t stream, Kind kind) {
  check_set(a, "emb", true);
  const bool same = same_set(a, b);
  if (!same) check_set(b, "targets", true);
  if (a.dim != b.dim)
    throw std::invalid_argument("targets: embedding width " + std::to_string(b.dim) + " differs from emb's " +
                                std::to_string(a.dim));
  if (a.dtype != b.dtype) throw std::invalid_argument("targets: dtype differs from emb's");
  check_pairs(a, b, pairs, m);
  if (m == 0) return PairRun{};
  require_device();
  const Device dev = current_device();
  StreamScope ss(stream);
  DevSet da(ss.get()), db(ss.get());
  upload_set(a, p.bf16, da);
  if (!same) upload_set(b, p.bf16, db);
  const DpArgs base = base_args(da, same ? da : db, a.dim, p);
  PairRun r = run_pairs(base, lengths(a), lengths(b), pairs, m, kind, p.soft_scale, dev, ss.get());
  ss.sync();
  return r;
}

}  // namespace

int64_t byte_budget() {
  const char* env = std::getenv("RNABERT_CUDA_BUDGET_MB");
  int64_t mb = 1024;
  if (env && *env) {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end && *end == '\0' && v > 0) mb = v;
  }
  return mb << 20;
}

void require_device() {
  if (cuda_device_count() == 0)
    throw CudaError("rnabert._cuda: no CUDA device is visible (no GPU, or no driver); use device='cpu'");
}

void check_set(const HostSet& s, const char* name, bool check_values) {
  check_layout(s, name);
  if (check_values && s.dtype == DType::kF32 && s.values) {
    const float* v = static_cast<const float*>(s.values);
    const int64_t count = s.offsets[s.n] * s.dim;
    for (int64_t x = 0; x < count; ++x)
      if (!std::isfinite(v[x]))
        throw std::invalid_argument(std::string(name) + ": embeddings contain NaN or inf (row " +
                                    std::to_string(x / s.dim) + ")");
  }
}

void check_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m) {
  check_pair_range(a, b, pairs, m);
}

void score_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                 cudaStream_t stream, float* out) {
  PairRun r = pairs_common(a, b, pairs, m, p, stream, Kind::kScore);
  std::copy(r.scores.begin(), r.scores.end(), out);
}

void soft_scores(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                 cudaStream_t stream, float* out) {
  PairRun r = pairs_common(a, b, pairs, m, p, stream, Kind::kSoft);
  std::copy(r.scores.begin(), r.scores.end(), out);
}

Paths align_pairs(const HostSet& a, const HostSet& b, const int64_t* pairs, int64_t m, const Params& p,
                  cudaStream_t stream) {
  PairRun r = pairs_common(a, b, pairs, m, p, stream, Kind::kTrace);
  if (m == 0) {
    Paths e;
    e.offsets.assign(1, 0);
    return e;
  }
  return stitch(std::move(r), m);
}

AvaResult all_vs_all(const HostSet& a, const HostSet* b_or_null, const Params& p, AvaScore score, AvaOutput output,
                     int64_t top_k, float min_score, cudaStream_t stream, float* dense_out,
                     const std::function<void(int64_t, int64_t)>& progress) {
  const bool self = b_or_null == nullptr;
  const HostSet& b = self ? a : *b_or_null;
  check_set(a, "emb", true);
  if (!self) {
    check_set(b, "targets", true);
    if (a.dim != b.dim)
      throw std::invalid_argument("targets: embedding width " + std::to_string(b.dim) + " differs from emb's " +
                                  std::to_string(a.dim));
  }
  if (output == AvaOutput::kTopK && top_k < 1) throw std::invalid_argument("top_k must be >= 1");
  require_device();
  const Device dev = current_device();
  StreamScope ss(stream);
  DevSet da(ss.get()), db(ss.get());
  upload_set(a, p.bf16, da);
  if (!self) upload_set(b, p.bf16, db);
  const DpArgs base = base_args(da, self ? da : db, a.dim, p);
  const std::vector<int64_t> len_a = lengths(a), len_b = self ? len_a : lengths(b);
  const int64_t na = a.n, nb = b.n;
  const bool diagonal = output == AvaOutput::kDense;
  const int64_t total_pairs = self ? na * (na - 1) / 2 + (diagonal ? na : 0) : na * nb;
  const int64_t tile = std::min<int64_t>(1024, cuda_plan::tile_for_budget(byte_budget()));
  const std::vector<int64_t> tl = cuda_plan::tiles(na, nb, self, tile);
  // Tiles run over the sequences sorted by length, so each tile's pairs, row by row, already have similar
  // costs next to each other (no per-tile sort on the host); pairs are mapped back to the caller's indices
  // and, without targets, oriented i <= j as the CPU engine computes them.
  const std::vector<int64_t> perm_a = cuda_plan::by_length(len_a.data(), na);
  const std::vector<int64_t> perm_b = self ? perm_a : cuda_plan::by_length(len_b.data(), nb);
  AvaCollector<AvaResult, AvaOutput> collect(output, self, na, nb, top_k, min_score, dense_out);
  int64_t done = 0;
  std::vector<int64_t> tp;
  const Kind kind = score == AvaScore::kDp ? Kind::kScore : Kind::kSoft;
  for (size_t x = 0; x + 3 < tl.size(); x += 4) {
    cuda_plan::tile_pairs(tl[x], tl[x + 1], tl[x + 2], tl[x + 3], self, diagonal, tp);
    const int64_t m = (int64_t)tp.size() / 2;
    if (m == 0) continue;
    for (int64_t k = 0; k < m; ++k) {
      int64_t i = perm_a[tp[2 * k]], j = perm_b[tp[2 * k + 1]];
      if (self && i > j) std::swap(i, j);
      tp[2 * k] = i;
      tp[2 * k + 1] = j;
    }
    const PairRun r = run_pairs(base, len_a, len_b, tp.data(), m, kind, p.soft_scale, dev, ss.get(), true);
    for (int64_t k = 0; k < m; ++k) collect.add(tp[2 * k], tp[2 * k + 1], r.scores[k]);
    done += m;
    if (progress) progress(done, total_pairs);
  }
  ss.sync();
  return collect.finish();
}

Paths align_score_matrices(const std::vector<const float*>& mats, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& cols, const std::vector<const int64_t*>& reference,
                           const std::vector<int64_t>& nref, const dp::Scoring& scoring, float fp_margin,
                           float fn_margin, bool traceback, cudaStream_t stream) {
  const int64_t m = (int64_t)mats.size();
  const bool margins = fp_margin != 0.0f || fn_margin != 0.0f;
  const std::vector<std::vector<std::pair<int64_t, int64_t>>> refs = reference_pairs(m, rows, cols, reference, nref);
  Paths res;
  res.scores.assign(m, 0.0f);
  res.offsets.assign(m + 1, 0);
  if (m == 0) return res;
  require_device();
  const Device dev = current_device();
  StreamScope ss(stream);
  // Each matrix is its own "pair" (p, 0) with lengths rows[p] x cols[p]; batches bound the traceback and
  // the uploaded matrices together.
  std::vector<int64_t> cost_order(m);
  std::iota(cost_order.begin(), cost_order.end(), 0);
  std::stable_sort(cost_order.begin(), cost_order.end(),
                   [&](int64_t x, int64_t y) { return rows[x] * cols[x] > rows[y] * cols[y]; });
  const int64_t budget = byte_budget();
  PairRun r;
  r.scores.resize(m);
  r.where.resize(m);
  r.len.resize(m);
  DpArgs base;
  base.scoring = scoring;
  size_t t = 0;
  BatchOut out;
  while (t < cost_order.size()) {
    // One batch: matrices (with margins) flattened, items (q, 0) in cost order.
    std::vector<int64_t> bp, bl, moff, dims;
    std::vector<float> flat;
    int64_t used = 0;
    const size_t t0 = t;
    for (; t < cost_order.size(); ++t) {
      const int64_t p = cost_order[t];
      const int64_t cells = rows[p] * cols[p];
      const int64_t bytes = cells * 4 + cuda_plan::pair_bytes(rows[p], cols[p], traceback);
      if (t > t0 && used + bytes > budget) break;
      used += bytes;
      const int64_t q = (int64_t)(t - t0);
      bp.push_back(q);
      bp.push_back(0);
      bl.push_back(rows[p]);
      bl.push_back(cols[p]);
      moff.push_back((int64_t)flat.size());
      dims.push_back(rows[p]);
      dims.push_back(cols[p]);
      const size_t at = flat.size();
      flat.insert(flat.end(), mats[p], mats[p] + cells);
      if (margins) {  // csrc/dp.cpp's decomposition: +fp off the reference, S - fn on reference cells
        for (int64_t x = 0; x < cells; ++x) flat[at + x] = mats[p][x] + fp_margin;
        for (const auto& ij : refs[p]) {
          const int64_t x = ij.first * cols[p] + ij.second;
          flat[at + x] = mats[p][x] - fn_margin;
        }
      }
    }
    DevBuf d_mats(ss.get()), d_moff(ss.get()), d_dims(ss.get());
    DpArgs a = base;
    a.mats = d_mats.upload(flat.data(), flat.size());
    a.mat_offsets = d_moff.upload(moff.data(), moff.size());
    a.dims = d_dims.upload(dims.data(), dims.size());
    run_batch(a, bp, bl, traceback ? Kind::kTrace : Kind::kScore, 0.0f, dev, ss.get(), &out);
    for (size_t u = t0; u < t; ++u) {
      const int64_t x = (int64_t)(u - t0), p = cost_order[u];
      r.scores[p] = out.scores[x] + (margins ? fn_margin * (float)refs[p].size() : 0.0f);
      if (traceback) {
        r.where[p] = (int64_t)r.flat.size() / 2;
        r.len[p] = out.path_len[x];
        const int32_t* src = out.path.data() + 2 * out.path_off[x];
        r.flat.insert(r.flat.end(), src, src + 2 * out.path_len[x]);
      } else {
        r.where[p] = 0;
        r.len[p] = 0;
      }
    }
  }
  ss.sync();
  return stitch(std::move(r), m);
}

namespace {

void pairs_device(const void* values, const int64_t* offsets, const int64_t* pairs, int64_t m, int64_t n, int64_t dim,
                  DType dtype, const Params& p, float* out, cudaStream_t stream, Kind kind) {
  if (n < 1) throw std::invalid_argument("n: needs at least one sequence");
  if (dim < 1) throw std::invalid_argument("dim: embedding width must be >= 1");
  if (m < 0) throw std::invalid_argument("m: must be >= 0");
  if (m == 0) return;
  if (!values) throw std::invalid_argument("values_ptr: null");
  if (!offsets) throw std::invalid_argument("offsets_ptr: null");
  if (!pairs) throw std::invalid_argument("pairs_ptr: null");
  if (!out) throw std::invalid_argument("out_ptr: null");
  require_device();
  const Device dev = current_device();
  StreamScope ss(stream);
  std::vector<int64_t> h_off(n + 1), h_pairs(2 * m);
  RNABERT_CUDA_CHECK(
      cudaMemcpyAsync(h_off.data(), offsets, sizeof(int64_t) * (n + 1), cudaMemcpyDeviceToHost, ss.get()));
  RNABERT_CUDA_CHECK(cudaMemcpyAsync(h_pairs.data(), pairs, sizeof(int64_t) * 2 * m, cudaMemcpyDeviceToHost, ss.get()));
  ss.sync();
  HostSet h;
  h.offsets = h_off.data();
  h.n = n;
  h.dim = dim;
  h.dtype = dtype;
  check_set(h, "offsets", false);
  check_pairs(h, h, h_pairs.data(), m);
  DpArgs base;
  base.a = {values, offsets};
  base.b = base.a;
  base.dim = (int)dim;
  base.dtype = dtype;
  base.scoring = p.scoring;
  base.scale = p.scale;
  base.bias = p.bias;
  const std::vector<int64_t> len = lengths(h);
  const std::vector<int64_t> order = cuda_plan::order_by_cost(len.data(), len.data(), h_pairs.data(), m);
  const std::vector<int64_t> starts =
      cuda_plan::split_batches(order, len.data(), len.data(), h_pairs.data(), false, byte_budget(), kMaxPairsPerBatch);
  for (size_t b = 0; b + 1 < starts.size(); ++b) {
    std::vector<int64_t> bp, bl, dst;
    for (int64_t t = starts[b]; t < starts[b + 1]; ++t) {
      const int64_t k = order[t];
      bp.push_back(h_pairs[2 * k]);
      bp.push_back(h_pairs[2 * k + 1]);
      bl.push_back(len[h_pairs[2 * k]]);
      bl.push_back(len[h_pairs[2 * k + 1]]);
      dst.push_back(k);
    }
    // run_batch's buffers are freed stream-ordered, after the kernel that uses them.
    run_batch(base, bp, bl, kind, p.soft_scale, dev, ss.get(), nullptr, out, &dst);
  }
}

}  // namespace

void score_pairs_device(const void* values, const int64_t* offsets, const int64_t* pairs, int64_t m, int64_t n,
                        int64_t dim, DType dtype, const Params& p, float* out, cudaStream_t stream) {
  pairs_device(values, offsets, pairs, m, n, dim, dtype, p, out, stream, Kind::kScore);
}

void soft_scores_device(const void* values, const int64_t* offsets, const int64_t* pairs, int64_t m, int64_t n,
                        int64_t dim, DType dtype, const Params& p, float* out, cudaStream_t stream) {
  pairs_device(values, offsets, pairs, m, n, dim, dtype, p, out, stream, Kind::kSoft);
}

}  // namespace cuda_engine
}  // namespace rnabert
