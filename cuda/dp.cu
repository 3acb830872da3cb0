// The GPU alignment kernels: one warp per pair, 32-row strips swept an anti-diagonal at a time.
//
// Lane r of a warp owns row i0 + r of the current strip; at step t it updates column j = t - r + 1, so the
// 32 lanes hold one anti-diagonal. H and E of the row above come from lane r - 1's previous step through
// __shfl_up_sync (lane 0 reads them from the row buffer the previous strip's last row left in global
// scratch); H and F of the cell to the left are the lane's own previous step. Every cell goes through
// dp::cell_update (csrc/dp_recurrence.h), the CPU engine's function, so both engines give the same scores
// and alignments on the same match scores.
//
// Match scores are computed on the fly, 32 columns at a time, into a per-warp ring of 64 columns in shared
// memory: at step t the lanes read columns t - 31 .. t (0-based), so the chunk for columns t .. t + 31 can
// overwrite columns t - 64 .. t - 33. Embedding mode computes scale * dot(a_i, b_j) + bias in fp32 with
// the CPU engine's order of operations (fmaf over k from 0, then fmaf(acc, scale, bias)), so fp32 input
// gives bit-identical match scores; fp16/bf16 inputs are widened to fp32 on load. Score-only work never
// writes an L1 x L2 matrix: the state between strips is one row of H and E (and the last column).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>
#include <string>

#include "cuda_check.h"
#include "kernels.h"

namespace rnabert {
namespace cuda_kernels {

namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kRing = 64;  // columns in the match ring (row stride: lanes read distinct banks, (t - r) mod 32)

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

// Row stride of the strip of A in shared memory: 16-byte rows for float4 loads.
__host__ __device__ __forceinline__ int strip_ld(int dim) { return (dim + 3) & ~3; }

struct Problem {
  int L1 = 0, L2 = 0;
  int64_t a0 = 0, b0 = 0;  // first row of A and B (embeddings), or the matrix's element offset
};

// Match scores from embeddings: the strip's rows of A in shared memory (fp32), B read from global memory.
template <class T>
struct EmbSource {
  const T* a;
  const int64_t* aoff;
  const T* b;
  const int64_t* boff;
  int dim;
  float scale, bias;

  __device__ Problem problem(const int64_t* pairs, int64_t k) const {
    const int64_t qa = pairs[2 * k], tb = pairs[2 * k + 1];
    Problem p;
    p.a0 = aoff[qa];
    p.b0 = boff[tb];
    p.L1 = (int)(aoff[qa + 1] - p.a0);
    p.L2 = (int)(boff[tb + 1] - p.b0);
    return p;
  }

  // Rows i0 .. i0 + rows - 1 of A into sA[r * ld + k], ld = dim rounded up to 4 (16-byte rows).
  __device__ void load_strip(const Problem& p, int i0, int rows, float* sA, int lane) const {
    __syncwarp();
    const T* src = a + (p.a0 + i0) * (int64_t)dim;
    const int n = rows * dim;
    const int ld = strip_ld(dim);
    for (int x = lane; x < n; x += 32) sA[(x / dim) * ld + x % dim] = to_float(src[x]);
    __syncwarp();
  }

  // Columns c0 .. c0 + 31 (0-based) of the strip's match scores into the ring; lane l computes column c0 + l.
  __device__ void fill_chunk(const Problem& p, int i0, int rows, int c0, const float* sA, float* sS, int lane) const {
    (void)i0;
    __syncwarp();
    const int jj = c0 + lane;
    if (jj < p.L2) {
      float acc[32];
#pragma unroll
      for (int r = 0; r < 32; ++r) acc[r] = 0.0f;
      const T* brow = b + (p.b0 + jj) * (int64_t)dim;
      const int ld = strip_ld(dim);
      const int k4 = dim & ~3;
      // Four components per step: one 16-byte broadcast load of each row of A instead of four (shared
      // memory bandwidth, not the FMAs, bounds the plain loop). The order of the FMAs is unchanged.
      for (int k = 0; k < k4; k += 4) {
        const float b0 = to_float(brow[k]), b1 = to_float(brow[k + 1]), b2 = to_float(brow[k + 2]),
                    b3 = to_float(brow[k + 3]);
#pragma unroll
        for (int r = 0; r < 32; ++r)
          if (r < rows) {
            const float4 av = *reinterpret_cast<const float4*>(sA + r * ld + k);
            acc[r] = fmaf(av.w, b3, fmaf(av.z, b2, fmaf(av.y, b1, fmaf(av.x, b0, acc[r]))));
          }
      }
      for (int k = k4; k < dim; ++k) {
        const float bv = to_float(brow[k]);
#pragma unroll
        for (int r = 0; r < 32; ++r)
          if (r < rows) acc[r] = fmaf(sA[r * ld + k], bv, acc[r]);
      }
      const int slot = jj & (kRing - 1);
#pragma unroll
      for (int r = 0; r < 32; ++r)
        if (r < rows) sS[r * kRing + slot] = fmaf(acc[r], scale, bias);
    }
    __syncwarp();
  }
};

// Match scores from explicit matrices (margins already applied on the host).
struct MatSource {
  const float* mats;
  const int64_t* moff;
  const int64_t* dims;

  __device__ Problem problem(const int64_t* pairs, int64_t k) const {
    const int64_t q = pairs[2 * k];
    Problem p;
    p.a0 = moff[q];
    p.L1 = (int)dims[2 * q];
    p.L2 = (int)dims[2 * q + 1];
    return p;
  }
  __device__ void load_strip(const Problem&, int, int, float*, int) const {}
  __device__ void fill_chunk(const Problem& p, int i0, int rows, int c0, const float*, float* sS, int lane) const {
    __syncwarp();
    const int jj = c0 + lane;
    if (jj < p.L2) {
      const float* src = mats + p.a0 + (int64_t)i0 * p.L2 + jj;
      const int slot = jj & (kRing - 1);
      for (int r = 0; r < rows; ++r) sS[r * kRing + slot] = src[(int64_t)r * p.L2];
    }
    __syncwarp();
  }
};

// One problem on one warp. Returns (on every lane) the score and end cell.
template <class Src, bool kTrace>
__device__ void solve(const Src& src, const Problem& p, const DpArgs& args, float* sS, float* sA, float* scratch,
                      uint32_t* tb, int lane, float* score_out, int* end_i, int* end_j) {
  using namespace dp;
  const Scoring sc = args.scoring;
  const bool local = sc.mode == kLocal;
  const float oe = sc.gap_open + sc.gap_extend;
  const float ge = sc.gap_extend;
  const int L1 = p.L1, L2 = p.L2;
  float* rowH = scratch;
  float* rowE = scratch + (L2 + 1);
  float* lastcol = scratch + 2 * (L2 + 1);
  __syncwarp();
  for (int j = lane; j <= L2; j += 32) {
    rowH[j] = border_top(sc, j);
    rowE[j] = kNegInf;
  }
  if (lane == 0) lastcol[0] = border_top(sc, L2);
  __syncwarp();
  const int words = (L2 + 7) / 8;
  float best = 0.0f;
  int best_i = 0, best_j = 0;
  for (int i0 = 0; i0 < L1; i0 += 32) {
    const int rows = min(32, L1 - i0);
    src.load_strip(p, i0, rows, sA, lane);
    const int i = i0 + lane + 1;  // this lane's row, 1-based
    const bool row_ok = lane < rows;
    float left_h = 0.0f, left_f = kNegInf, out_h = 0.0f, out_e = kNegInf, up_prev = 0.0f;
    uint32_t word = 0;
    const int steps = L2 + rows - 1;
    for (int t = 0; t < steps; ++t) {
      if ((t & 31) == 0 && t < L2) src.fill_chunk(p, i0, rows, t, sA, sS, lane);
      float up_h = __shfl_up_sync(kFull, out_h, 1);
      float up_e = __shfl_up_sync(kFull, out_e, 1);
      const int j = t - lane + 1;
      if (row_ok && j >= 1 && j <= L2) {
        if (lane == 0) {
          up_h = rowH[j];
          up_e = rowE[j];
        }
        float diag;
        if (j == 1) {
          diag = border_left(sc, i - 1);
          left_h = border_left(sc, i);
          left_f = kNegInf;
        } else {
          diag = up_prev;
        }
        const float match = sS[lane * kRing + ((j - 1) & (kRing - 1))];
        float e, f;
        uint8_t dir;
        const float h = cell_update(diag, up_h, up_e, left_h, left_f, match, oe, ge, local, &e, &f, &dir);
        left_h = h;
        left_f = f;
        out_h = h;
        out_e = e;
        up_prev = up_h;
        if (local && h > best) {  // first strict maximum of this lane's rows, in row-major order
          best = h;
          best_i = i;
          best_j = j;
        }
        if (j == L2) lastcol[i] = h;
        if (lane == rows - 1) {  // the strip's last row becomes the next strip's row above
          rowH[j] = h;
          rowE[j] = e;
        }
        if (kTrace) {
          word |= (uint32_t)dir << (4 * ((j - 1) & 7));
          if (((j - 1) & 7) == 7 || j == L2) {
            tb[(int64_t)(i - 1) * words + (j - 1) / 8] = word;
            word = 0;
          }
        }
      }
    }
    __syncwarp();
  }
  __syncwarp();
  if (sc.mode == kGlobal) {
    *score_out = rowH[L2];
    *end_i = L1;
    *end_j = L2;
    return;
  }
  if (local) {  // the lexicographically first (i, j) among the cells holding the maximum (0: empty alignment)
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(kFull, best, o);
      const int oi = __shfl_xor_sync(kFull, best_i, o);
      const int oj = __shfl_xor_sync(kFull, best_j, o);
      const bool earlier = best_i == 0 || oi < best_i || (oi == best_i && oj < best_j);
      const bool take = ob > best || (ob == best && oi != 0 && earlier);
      if (take) {
        best = ob;
        best_i = oi;
        best_j = oj;
      }
    }
    if (!(best > 0.0f)) {
      best = 0.0f;
      best_i = 0;
      best_j = 0;
    }
    *score_out = best;
    *end_i = best_i;
    *end_j = best_j;
    return;
  }
  // Semi-global: the corner, then the last row right to left, then (free ends in both) the last column bottom
  // to top; a later candidate must be strictly better (the CPU engine's order).
  float s = rowH[L2];
  int bi = L1, bj = L2;
  for (int j = L2 - 1; j >= 0; --j) {
    const float v = j == 0 ? border_left(sc, L1) : rowH[j];
    if (v > s) {
      s = v;
      bi = L1;
      bj = j;
    }
  }
  if (sc.free_ends == kFreeBoth)
    for (int ii = L1 - 1; ii >= 0; --ii)
      if (lastcol[ii] > s) {
        s = lastcol[ii];
        bi = ii;
        bj = L2;
      }
  *score_out = s;
  *end_i = bi;
  *end_j = bj;
}

template <class Src, bool kTrace>
__global__ void dp_kernel(Src src, DpArgs args, int smem_floats_per_warp, int ring_floats) {
  extern __shared__ float4 smem4[];  // float4: 16-byte alignment for the strip's vector loads
  float* smem = reinterpret_cast<float*>(smem4);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  float* sS = smem + warp * smem_floats_per_warp;
  float* sA = sS + ring_floats;
  const int64_t slot = (int64_t)blockIdx.x * (blockDim.x >> 5) + warp;
  const int64_t slots = (int64_t)gridDim.x * (blockDim.x >> 5);
  float* scratch = args.scratch + slot * args.scratch_stride;
  for (int64_t k = slot; k < args.m; k += slots) {
    const Problem p = src.problem(args.pairs, k);
    float score;
    int ei, ej;
    solve<Src, kTrace>(src, p, args, sS, sA, scratch, kTrace ? args.tb + args.tb_offsets[k] : nullptr, lane, &score,
                       &ei, &ej);
    if (lane == 0) {
      args.scores[args.dst ? args.dst[k] : k] = score;
      if (args.ends) {
        args.ends[2 * k] = ei;
        args.ends[2 * k + 1] = ej;
      }
    }
  }
}

// Soft-alignment score of one pair per warp, two passes over the similarity: (1) row sums R_i and column
// sums C_j of E = exp(s - shift), (2) sum of c * s and of c with a = E / R_i, b = E / C_j, c = a + b - a b.
template <class T>
__global__ void soft_kernel(EmbSource<T> src, DpArgs args, float shift, int smem_floats_per_warp, int ring_floats) {
  extern __shared__ float4 smem4[];  // float4: 16-byte alignment for the strip's vector loads
  float* smem = reinterpret_cast<float*>(smem4);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  float* sS = smem + warp * smem_floats_per_warp;
  float* sA = sS + ring_floats;
  const int64_t slot = (int64_t)blockIdx.x * (blockDim.x >> 5) + warp;
  const int64_t slots = (int64_t)gridDim.x * (blockDim.x >> 5);
  float* scratch = args.scratch + slot * args.scratch_stride;
  for (int64_t k = slot; k < args.m; k += slots) {
    const Problem p = src.problem(args.pairs, k);
    float* R = scratch;
    float* C = scratch + p.L1;
    __syncwarp();
    for (int j = lane; j < p.L2; j += 32) C[j] = 0.0f;
    __syncwarp();
    for (int i0 = 0; i0 < p.L1; i0 += 32) {  // pass 1
      const int rows = min(32, p.L1 - i0);
      src.load_strip(p, i0, rows, sA, lane);
      float rsum = 0.0f;
      for (int c0 = 0; c0 < p.L2; c0 += 32) {
        src.fill_chunk(p, i0, rows, c0, sA, sS, lane);
        const int jj = c0 + lane;
        if (jj < p.L2) {
          float csum = 0.0f;
          for (int r = 0; r < rows; ++r) {
            float* cell = &sS[r * kRing + (jj & (kRing - 1))];
            const float e = expf(*cell - shift);
            *cell = e;
            csum += e;
          }
          C[jj] += csum;
        }
        __syncwarp();
        if (lane < rows) {
          const int width = min(32, p.L2 - c0);
          for (int x = 0; x < 32; ++x) {
            const int col = (x + lane) & 31;  // rotated so the lanes hit distinct banks
            if (col < width) rsum += sS[lane * kRing + ((c0 + col) & (kRing - 1))];
          }
        }
      }
      if (lane < rows) R[i0 + lane] = rsum;
    }
    __syncwarp();
    double num = 0.0, den = 0.0;
    for (int i0 = 0; i0 < p.L1; i0 += 32) {  // pass 2
      const int rows = min(32, p.L1 - i0);
      src.load_strip(p, i0, rows, sA, lane);
      const float myR = lane < rows ? R[i0 + lane] : 1.0f;
      for (int c0 = 0; c0 < p.L2; c0 += 32) {
        src.fill_chunk(p, i0, rows, c0, sA, sS, lane);
        const int jj = c0 + lane;
        const float Cj = jj < p.L2 ? C[jj] : 1.0f;
        float n32 = 0.0f, d32 = 0.0f;
        for (int r = 0; r < 32; ++r) {
          const float Ri = __shfl_sync(kFull, myR, r);
          if (r < rows && jj < p.L2) {
            const float s = sS[r * kRing + (jj & (kRing - 1))];
            const float e = expf(s - shift);
            const float a = e / Ri, b = e / Cj;
            const float c = a + b - a * b;
            n32 += c * s;
            d32 += c;
          }
        }
        num += n32;
        den += d32;
      }
    }
    for (int o = 16; o > 0; o >>= 1) {
      num += __shfl_xor_sync(kFull, num, o);
      den += __shfl_xor_sync(kFull, den, o);
    }
    if (lane == 0) args.scores[args.dst ? args.dst[k] : k] = (float)(num / den);
  }
}

__global__ void traceback_kernel(const uint32_t* tb, const int64_t* tb_offsets, const int32_t* ends,
                                 const int64_t* lens, const int64_t* path_offsets, int32_t* path, int64_t* path_len,
                                 int64_t m) {
  const int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= m) return;
  const int L2 = (int)lens[2 * k + 1];
  const int words = (L2 + 7) / 8;
  const uint32_t* t = tb + tb_offsets[k];
  int32_t* out = path + 2 * path_offsets[k];
  int i = ends[2 * k], j = ends[2 * k + 1], state = 0, aligned = 0;
  int64_t n = 0;
  while (i > 0 && j > 0) {
    const uint8_t dir = (uint8_t)((t[(int64_t)(i - 1) * words + (j - 1) / 8] >> (4 * ((j - 1) & 7))) & 15u);
    if (!dp::trace_step(dir, &state, &i, &j, &aligned)) break;
    if (aligned) {
      out[2 * n] = i;
      out[2 * n + 1] = j;
      ++n;
    }
  }
  for (int64_t x = 0, y = n - 1; x < y; ++x, --y) {  // end to start -> increasing
    const int32_t xi = out[2 * x], xj = out[2 * x + 1];
    out[2 * x] = out[2 * y];
    out[2 * x + 1] = out[2 * y + 1];
    out[2 * y] = xi;
    out[2 * y + 1] = xj;
  }
  path_len[k] = n;
}

int ring_floats() { return 32 * kRing; }

template <class K>
void set_smem(K kernel, size_t bytes) {
  if (bytes > 48 * 1024)
    RNABERT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

template <class T>
EmbSource<T> emb_source(const DpArgs& a) {
  return EmbSource<T>{static_cast<const T*>(a.a.values),
                      a.a.offsets,
                      static_cast<const T*>(a.b.values),
                      a.b.offsets,
                      a.dim,
                      a.scale,
                      a.bias};
}

template <class Src>
void launch_dp_src(const Src& src, const DpArgs& args, const LaunchShape& s, cudaStream_t stream) {
  const int per_warp = (int)(s.shared_bytes / sizeof(float) / s.warps_per_block);
  if (args.tb) {
    set_smem(dp_kernel<Src, true>, s.shared_bytes);
    dp_kernel<Src, true>
        <<<s.blocks, 32 * s.warps_per_block, s.shared_bytes, stream>>>(src, args, per_warp, ring_floats());
  } else {
    set_smem(dp_kernel<Src, false>, s.shared_bytes);
    dp_kernel<Src, false>
        <<<s.blocks, 32 * s.warps_per_block, s.shared_bytes, stream>>>(src, args, per_warp, ring_floats());
  }
  RNABERT_CUDA_CHECK_LAUNCH();
}

}  // namespace

size_t dp_warp_shared_bytes(int dim, bool matrices) {
  return sizeof(float) * ((size_t)32 * kRing + (matrices ? 0 : (size_t)32 * strip_ld(dim)));
}

LaunchShape dp_launch_shape(int64_t m, int dim, bool matrices, int sm_count, size_t shared_optin) {
  const size_t per_warp = dp_warp_shared_bytes(dim, matrices);
  if (per_warp > shared_optin)
    throw std::invalid_argument("emb: embedding width " + std::to_string(dim) +
                                " needs more shared memory per warp than this GPU has");
  int warps = 4;
  while (warps > 1 && per_warp * warps > shared_optin) --warps;
  LaunchShape s;
  s.warps_per_block = warps;
  s.shared_bytes = per_warp * warps;
  const int64_t want = (m + warps - 1) / warps;
  const int64_t cap = (int64_t)(sm_count > 0 ? sm_count : 1) * 16;  // enough resident warps to hide latency
  s.blocks = (int)(want < cap ? (want > 0 ? want : 1) : cap);
  return s;
}

int64_t dp_scratch_floats(int64_t max_l1, int64_t max_l2) { return 2 * (max_l2 + 1) + (max_l1 + 1); }
int64_t soft_scratch_floats(int64_t max_l1, int64_t max_l2) { return max_l1 + max_l2; }

void launch_dp(const DpArgs& args, const LaunchShape& shape, cudaStream_t stream) {
  if (args.m == 0) return;
  if (args.mats) {
    launch_dp_src(MatSource{args.mats, args.mat_offsets, args.dims}, args, shape, stream);
    return;
  }
  switch (args.dtype) {
    case DType::kF32:
      launch_dp_src(emb_source<float>(args), args, shape, stream);
      break;
    case DType::kF16:
      launch_dp_src(emb_source<__half>(args), args, shape, stream);
      break;
    case DType::kBF16:
      launch_dp_src(emb_source<__nv_bfloat16>(args), args, shape, stream);
      break;
  }
}

void launch_soft(const DpArgs& args, float soft_scale, const LaunchShape& s, cudaStream_t stream) {
  if (args.m == 0) return;
  const int per_warp = (int)(s.shared_bytes / sizeof(float) / s.warps_per_block);
  const float shift = soft_scale < 0 ? -soft_scale : soft_scale;
  switch (args.dtype) {
    case DType::kF32:
      set_smem(soft_kernel<float>, s.shared_bytes);
      soft_kernel<float><<<s.blocks, 32 * s.warps_per_block, s.shared_bytes, stream>>>(
          EmbSource<float>{static_cast<const float*>(args.a.values), args.a.offsets,
                           static_cast<const float*>(args.b.values), args.b.offsets, args.dim, soft_scale, 0.0f},
          args, shift, per_warp, ring_floats());
      break;
    case DType::kF16:
      set_smem(soft_kernel<__half>, s.shared_bytes);
      soft_kernel<__half><<<s.blocks, 32 * s.warps_per_block, s.shared_bytes, stream>>>(
          EmbSource<__half>{static_cast<const __half*>(args.a.values), args.a.offsets,
                            static_cast<const __half*>(args.b.values), args.b.offsets, args.dim, soft_scale, 0.0f},
          args, shift, per_warp, ring_floats());
      break;
    case DType::kBF16:
      set_smem(soft_kernel<__nv_bfloat16>, s.shared_bytes);
      soft_kernel<__nv_bfloat16><<<s.blocks, 32 * s.warps_per_block, s.shared_bytes, stream>>>(
          EmbSource<__nv_bfloat16>{static_cast<const __nv_bfloat16*>(args.a.values), args.a.offsets,
                                   static_cast<const __nv_bfloat16*>(args.b.values), args.b.offsets, args.dim,
                                   soft_scale, 0.0f},
          args, shift, per_warp, ring_floats());
      break;
  }
  RNABERT_CUDA_CHECK_LAUNCH();
}

void launch_traceback(const DpArgs& args, const int64_t* lens, const int64_t* path_offsets, int32_t* path,
                      int64_t* path_len, cudaStream_t stream) {
  if (args.m == 0) return;
  const int threads = 128;
  const int64_t blocks = (args.m + threads - 1) / threads;
  traceback_kernel<<<(unsigned)blocks, threads, 0, stream>>>(args.tb, args.tb_offsets, args.ends, lens, path_offsets,
                                                             path, path_len, args.m);
  RNABERT_CUDA_CHECK_LAUNCH();
}

}  // namespace cuda_kernels
}  // namespace rnabert
